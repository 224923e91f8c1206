"""The round's archival package: a folder per chosen dossier, PDF/A-3b copies with the evidence embedded
once with its checksum, and a manifest whose checksums match what the ZIP holds (issue 15, acceptance 4)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from artisan_awards import storage
from artisan_awards.documents import jobs
from artisan_awards.extensions import db
from artisan_awards.models import DocumentTask, Nomination
from tests.test_councils import Chain
from tests.test_documents import _evidence_pdf, _png, _upload
from workflows.states import State


@pytest.fixture
def world(api, make, app, tmp_path):
    app.config["TODAY"] = None
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    owner = make.user("applicant")
    chain = Chain(api, make)
    made = {}
    for label, state in (("submitted", State.SUBMITTED), ("withdrawn", State.WITHDRAWN),
                         ("closed", State.CLOSED_INCOMPLETE)):
        made[label] = make.nomination(state, owner=owner, nominee={"full_name": f"Nghệ nhân {label}"})
    evidence = _evidence_pdf()
    for label, state in (("rejected", State.PROVINCE_REJECTED), ("awarded", State.AWARDED)):
        n = make.nomination(owner=owner, nominee={"full_name": f"=Nghệ nhân {label}"})
        if label == "awarded":  # two uploads of the same name, one of them the same content twice
            _upload(api, owner, n, "photo", "ảnh.png", _png())
            _upload(api, owner, n, "certificate", "bang-khen.pdf", evidence)
            _upload(api, owner, n, "award_decision", "bang-khen.pdf", _other_pdf())
            _upload(api, owner, n, "other", "bang-khen (1).pdf", evidence)
        chain.act(n, "submit", owner)
        n = db.session.get(Nomination, n.id)
        n.state = state  # the councils' path is tested elsewhere; here only the outcome matters
        if state == State.AWARDED:
            from datetime import date
            n.decision_no, n.decision_date = "1234/QĐ-CTN", date(2026, 9, 2)
        db.session.commit()
        made[label] = n
    return made


def _other_pdf() -> bytes:
    import weasyprint

    return weasyprint.HTML(string="<p>Giấy chứng nhận số 7 của Sở Văn hóa</p>").write_pdf()


def _export(make, scope: str) -> zipfile.ZipFile:
    admin = make.user("admin")
    task = DocumentTask(round_id=make.current_round().id, requested_by_id=admin.id, kind=f"round_{scope}")
    db.session.add(task)
    db.session.commit()
    jobs.run_task(task.id)
    task = db.session.get(DocumentTask, task.id)
    assert task.status == "done", task.message
    return zipfile.ZipFile(io.BytesIO(storage.storage().get(task.result_name)))


def _check_package(package: zipfile.ZipFile) -> dict:
    """Every file the manifest lists is there with its checksum and size, and nothing else is."""
    manifest = json.loads(package.read(jobs.MANIFEST_JSON))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(package.namelist()) == set(listed) | {jobs.MANIFEST_JSON, jobs.MANIFEST_CSV}
    for path, entry in listed.items():
        body = package.read(path)
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], path
        assert len(body) == entry["size"], path
    for dossier in manifest["dossiers"]:
        for f in dossier["files"]:
            assert f["path"].startswith(dossier["folder"] + "/") and listed[f["path"]] == f
    rows = list(csv.DictReader(io.StringIO(package.read(jobs.MANIFEST_CSV).decode("utf-8-sig"))))
    assert {r["path"]: r["sha256"] for r in rows} == {p: f["sha256"] for p, f in listed.items()}
    return manifest


def test_package_of_decided_dossiers_holds_only_them_and_its_checksums_match(world, make):
    manifest = _check_package(_export(make, "decided"))
    assert manifest["scope"] == "decided"
    codes = {d["code"] for d in manifest["dossiers"]}
    assert codes == {world["rejected"].code, world["awarded"].code}
    awarded = next(d for d in manifest["dossiers"] if d["code"] == world["awarded"].code)
    assert awarded["full_name"] == "=Nghệ nhân awarded" and awarded["state"] == "awarded"
    assert awarded["province_code"] == "HNI" and awarded["province"] and awarded["title"]
    assert awarded["decision_no"] == "1234/QĐ-CTN" and awarded["decision_date"] == "2026-09-02"
    assert awarded["submitted_at"] and awarded["folder"] == f"ho-so/HNI/{world['awarded'].code}"
    assert {f["path"].rsplit("/", 1)[1] for f in awarded["files"]} == {f"ho-so-{world['awarded'].code}-pdfa.pdf"}
    # No file of a withdrawn, closed or pending dossier anywhere in the package.
    for label in ("submitted", "withdrawn", "closed"):
        assert not any(world[label].code in f["path"] for f in manifest["files"]), label


def test_package_of_all_dossiers_includes_withdrawn_and_closed(world, make):
    manifest = _check_package(_export(make, "all"))
    assert {d["code"] for d in manifest["dossiers"]} == {n.code for n in world.values()}


def test_the_csv_manifest_cannot_run_a_formula(world, make):
    package = _export(make, "decided")
    rows = list(csv.DictReader(io.StringIO(package.read(jobs.MANIFEST_CSV).decode("utf-8-sig"))))
    names = {r["full_name"] for r in rows if r["full_name"]}
    assert names == {"'=Nghệ nhân rejected", "'=Nghệ nhân awarded"}


def test_archival_copy_embeds_each_evidence_file_once_with_its_checksums(world, make):
    package = _export(make, "decided")
    n = world["awarded"]
    reader = PdfReader(io.BytesIO(package.read(f"ho-so/HNI/{n.code}/ho-so-{n.code}-pdfa.pdf")))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3<" in xmp
    refs = [ref.idnum for ref in root["/AF"]]
    assert len(refs) == len(set(refs)), "each associated file listed once"
    specs = [ref.get_object() for ref in root["/AF"]]
    tree = root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert sorted(ref.idnum for ref in tree[1::2]) == sorted(refs)
    # each stored content once (uploads are rewritten clean, so equal uploads may differ once stored),
    # under names that do not collide although two uploads share one
    stored = {a.sha256 for a in n.attachments}
    assert len(n.attachments) == 4 and len(specs) == len(stored) == 3
    names = [str(s["/UF"]) for s in specs]
    assert sorted(names) == ["bang-khen (2).pdf", "bang-khen.pdf", "ảnh.png"]
    assert sorted(str(s["/F"]) for s in specs) == ["anh.png", "bang-khen (2).pdf", "bang-khen.pdf"]
    assert sorted(reader.attachments) == sorted(names)  # the name tree's keys read as the names
    seen = set()
    for spec in specs:
        assert spec["/AFRelationship"] == "/Supplement"
        stream = spec["/EF"]["/F"].get_object()
        body = stream.get_data()
        sha = hashlib.sha256(body).hexdigest()
        assert sha in stored and spec["/Desc"] == f"SHA-256: {sha}"
        params = stream["/Params"]
        assert params["/Size"] == len(body)
        checksum = params["/CheckSum"]
        checksum = checksum.original_bytes if hasattr(checksum, "original_bytes") else bytes(checksum)
        assert checksum == hashlib.md5(body).digest()
        seen.add(sha)
    assert seen == stored


def test_export_page_offers_the_choice_and_refuses_an_unknown_one(world, make, client, auth, app):
    admin = auth.login_as("admin")
    rid = make.current_round().id
    bad = client.post(f"/documents/rounds/{rid}/export", data={"scope": "everything"})
    # refused with the form's message (a page answers a refused form by going back with it), no task made
    assert bad.status_code == 400 or bad.status_code == 302 and "/documents/tasks/" not in bad.location
    assert db.session.query(DocumentTask).count() == 0
    ok = client.post(f"/documents/rounds/{rid}/export", data={"scope": "all"})
    assert ok.status_code == 302
    for thread in list(jobs._threads):
        thread.join(60)
    task = db.session.query(DocumentTask).one()
    assert task.kind == "round_all" and task.requested_by_id == admin.id
    db.session.expire_all()
    assert db.session.get(DocumentTask, task.id).status == "done"


def test_the_engine_embeds_equal_contents_once_under_distinct_names():
    from artisan_awards.documents import engine

    a, b = b"%PDF-1.4 one", b"%PDF-1.4 two"
    files = [engine.Appended(hashlib.sha256(x).hexdigest(), (lambda x=x: x), name)
             for x, name in ((a, "x.pdf"), (a, "copy.pdf"), (b, "x.pdf"), (b, "x.pdf"))]
    attachments = engine.embedded_attachments(files, engine.SafeFetcher())
    assert [att.name for att in attachments] == ["x.pdf", "x (2).pdf"]
    assert [att.description for att in attachments] == [f"SHA-256: {f.sha256}" for f in files[::2]]
    assert engine.unique_name("a", {"a", "a (2)"}) == "a (3)"
