"""The round's record (issue 14, item 9): each council session's counts stored at its close, and the
round report (page, CSV/XLSX, PDF) per level and province, by title, posthumous proposals apart."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import AgendaItem, CouncilSession
from artisan_awards.services import law
from artisan_awards.timeutil import today
from tests.test_councils import Chain
from workflows.states import State


@pytest.fixture
def chain(api, make, app):
    app.config["TODAY"] = None
    return Chain(api, make)


POSTHUMOUS = {"posthumous": True, "filed_by": {"full_name": "Nguyễn Thị Con", "relationship": "child"},
              "nominee": {"death_date": "2024-01-05"}}


def _round_played(chain):
    """Four dossiers in Hà Nội: A held at the ministry, B withdrawn after the province, C (posthumous)
    awarded, D rejected by the provincial council."""
    a, b, d = chain.accepted(), chain.accepted(), chain.accepted()
    c = chain.accepted(**POSTHUMOUS)
    assert c.posthumous
    s1, _ = chain.vote("province", [a, b, c], yes_votes=11)
    s2, _ = chain.vote("province", [d], yes_votes=5)
    assert [x.state for x in (a, b, c, d)] == [State.PROVINCE_PASSED] * 3 + [State.PROVINCE_REJECTED]
    chain.act(b, "withdraw", b.owner, comment="Gia đình xin rút")
    for x in (a, c):
        chain.act(x, "forward_to_ministry", chain.officer)
    s3, _ = chain.vote("ministry", [a, c], yes_votes=11)
    chain.round.consultation_days = 0
    db.session.commit()
    for x in (a, c):
        chain.act(x, "open_consultation", chain.ministry)
    chain.act(a, "hold", chain.ministry, comment="Xác minh ý kiến nhân dân")
    chain.act(c, "forward_to_state", chain.ministry)
    s4, _ = chain.vote("state", [c], yes_votes=11)
    chain.act(c, "open_consultation", chain.ministry)
    chain.act(c, "submit_to_pm", chain.ministry)
    chain.act(c, "submit_to_president", chain.government)
    chain.act(c, "record_award", chain.government, decision_no="99/QĐ-CTN", decision_date=today().isoformat())
    assert c.state == State.AWARDED and a.state == State.ON_HOLD and b.state == State.WITHDRAWN
    return (a, b, c, d), (s1, s2, s3, s4)


def test_each_session_stores_its_counts_at_the_close(chain):
    a, b = chain.accepted(), chain.accepted()
    sid, _ = chain.vote("province", [a, b], yes_votes=5)
    row = db.session.get(CouncilSession, sid)
    assert (row.received_count, row.passed_count, row.rejected_count) == (2, 0, 2)
    sid, _ = chain.vote("province", [chain.accepted()], yes_votes=11)
    row = db.session.get(CouncilSession, sid)
    assert (row.received_count, row.passed_count, row.rejected_count) == (1, 1, 0)


def test_the_report_equals_the_stored_results_and_a_hand_count(chain, client, auth):
    (a, b, c, d), sessions = _round_played(chain)
    report = law.round_report(chain.round)
    # the stored session results, as kept at each close
    assert report["stored"]["province"] == {"sessions": 2, "received": 4, "passed": 3, "rejected": 1}
    assert report["stored"]["ministry"] == {"sessions": 1, "received": 2, "passed": 2, "rejected": 0}
    assert report["stored"]["state"] == {"sessions": 1, "received": 1, "passed": 1, "rejected": 0}
    # the hand count: level x title x posthumous
    m = "meritorious"
    zero = dict.fromkeys(law.MEASURES, 0)
    expected = {
        ("province", m, False): {**zero, "proposed": 3, "passed": 2, "rejected": 1, "withdrawn": 1},
        ("province", m, True): {**zero, "proposed": 1, "passed": 1},
        ("ministry", m, False): {**zero, "proposed": 1, "passed": 1, "on_hold": 1},
        ("ministry", m, True): {**zero, "proposed": 1, "passed": 1},
        ("state", m, True): {**zero, "proposed": 1, "passed": 1, "awarded": 1},
    }
    assert report["by_level"] == expected
    for level in ("province", "ministry", "state"):  # the figures equal the stored council results
        t = report["totals"][(level,)]
        s = report["stored"][level]
        assert (t["proposed"], t["passed"], t["rejected"]) == (s["received"], s["passed"], s["rejected"])
    assert report["by_province"][("HNI", "province")]["proposed"] == 4
    # a later move does not rewrite a closed session's record
    db.session.execute(sa.update(AgendaItem).where(AgendaItem.session_id == sessions[1]).values(passed=True))
    db.session.commit()
    tampered = law.round_report(chain.round)
    assert tampered["stored"]["province"]["rejected"] == 1 and tampered["mismatch"] == ["province"]
    assert report["mismatch"] == []

    auth.login(chain.ministry.email)
    page = client.get(f"/rounds/{chain.round.id}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "không khớp" in html  # the page says so when the items no longer match the stored results
    assert "Báo cáo kết quả đợt" in html
    assert 'data-level="province" data-title="meritorious" data-posthumous="1"' in html
    body = client.get(f"/rounds/{chain.round.id}/report?format=csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sum(int(r["Đề nghị"]) for r in rows if r["Cấp"] == "Cấp tỉnh") == 4
    assert sum(int(r["Được phong tặng"]) for r in rows) == 1
    assert [r["Truy tặng"] for r in rows if r["Được phong tặng"] == "1"] == ["Có"]
    xlsx = client.get(f"/rounds/{chain.round.id}/report?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = client.get(f"/rounds/{chain.round.id}/report?format=pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert "BÁO CÁO" in text and "Cấp tỉnh" in text and "Hà Nội" in text
    assert client.get(f"/rounds/{chain.round.id}/report?format=doc").status_code == 404


def test_the_report_is_for_the_ministry_government_and_administrator(client, auth, make):
    round_ = make.round()
    auth.login_as("province_officer", "HNI")
    assert client.get(f"/rounds/{round_.id}/report").status_code == 403
    auth.logout()
    r = client.get(f"/rounds/{round_.id}/report")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    auth.login_as("government_officer")
    assert client.get(f"/rounds/{round_.id}/report").status_code == 200
    assert client.get("/rounds/99999999999/report").status_code == 404
