"""The keyed audit chain against someone who has the database but not the key (issue 12, item 3).

Each test plays the attacker: it goes round the append-only triggers (as someone with direct
database access can), tampers, and runs ``flask --app wsgi audit verify`` through the app's CLI
runner, which must name the row and the reason.  Each also removes the protection that catches the
attack (a monkeypatched check) and shows that the attack then passes, so the test can fail.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import zipfile
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from artisan_awards import audit_chain as audit
from artisan_awards.extensions import db
from artisan_awards.models import AuditKind, Nomination, User
from artisan_awards.services import admin_events as audit_log
from artisan_awards.services import nominations as service
from tests.apps import module_world
from tests.factories import Factory
from workflows.states import Action, State

# -- helpers -------------------------------------------------------------------------------------


def chain() -> list[dict]:
    """Every row of both logs, in chain order, as the attacker sees them."""
    db.session.commit()
    rows = []
    with db.engine.connect() as conn:
        for log in audit.LOGS:
            table = audit.log_table(log, numbered=True)
            rows += [{**r, "log": log} for r in conn.execute(sa.select(table)).mappings()]
    return sorted(rows, key=lambda r: r["seq"])


def moves_of(nomination) -> list[dict]:
    return [r for r in chain() if r["log"] == "transition_log" and r["nomination_id"] == nomination.id]


def attack(db_kind, *statements):
    """Run SQL with the append-only triggers out of the way (the attacker has the database)."""
    db.session.commit()
    with db.engine.begin() as conn:
        for table in audit.LOGS:
            if db_kind == "postgresql":
                conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, {})
            conn.execute(sa.text(sql), params)


def verify(runner, *args):
    db.session.remove()
    return runner.invoke(args=["audit", "verify", *args])


def admin_event(user, label: str):
    event = audit_log.record(AuditKind.ROUND_CHANGED, user, target_type="round", target_label=label, note="thử")
    db.session.commit()
    return event


def _build_world() -> SimpleNamespace:
    """Dossier a (3 moves), dossier b (2 moves), two admin events, then dossier c (2 moves): their ids."""
    make = Factory()
    officer = make.user("province_officer", "HNI")
    admin = make.user("admin")
    a = make.nomination(State.CLOSED_INCOMPLETE, officer=officer)
    b = make.nomination(State.ACCEPTED, officer=officer)
    e1, e2 = admin_event(admin, "Đợt 2026 (1)"), admin_event(admin, "Đợt 2026 (2)")
    c = make.nomination(State.RETURNED, officer=officer)
    return SimpleNamespace(officer=officer.id, admin=admin.id, a=a.id, b=b.id, c=c.id, e1=e1.id, e2=e2.id)


# The world built once for the module; each test asking for ``world`` gets a copy of its database.
built_world, app_config = module_world(_build_world, "audit-world")


@pytest.fixture
def world(app, built_world):
    """Dossier a (3 moves), dossier b (2 moves), two admin events, then dossier c (2 moves)."""
    ids = built_world.value
    return SimpleNamespace(officer=db.session.get(User, ids.officer), admin=db.session.get(User, ids.admin),
                           a=db.session.get(Nomination, ids.a), b=db.session.get(Nomination, ids.b),
                           c=db.session.get(Nomination, ids.c),
                           ids=SimpleNamespace(a=ids.a, b=ids.b, c=ids.c, e1=ids.e1, e2=ids.e2))


def no(monkeypatch, *checks):
    """The broken variant: verify without the named checks."""
    for name in checks:
        monkeypatch.setattr(audit, name, lambda *a, **k: None)


def broken(runner, *args):
    """``audit verify`` that finds the chain broken (exit code 1): its result, to read what it names."""
    result = verify(runner, *args)
    assert result.exit_code == 1, result.output
    return result


def passes_without(runner, monkeypatch, *checks):
    """The broken variant passes: without the named checks, ``audit verify`` finds nothing (exit code 0)."""
    no(monkeypatch, *checks)
    result = verify(runner)
    assert result.exit_code == 0, result.output


# -- a clean record ------------------------------------------------------------------------------

def test_a_clean_database_verifies_and_numbers_both_logs_without_gaps(world, runner):
    rows = chain()
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert {r["log"] for r in rows} == {"transition_log", "audit_events"}
    assert [r["log"] for r in rows if r["seq"] in (6, 7)] == ["audit_events", "audit_events"]
    assert all(r["prev_hash"] == (rows[i - 1]["hash"] if i else "") for i, r in enumerate(rows))
    ok = verify(runner)
    assert ok.exit_code == 0, ok.output
    assert f"OK: 7 log rows and 2 admin events, chain 1..{len(rows)} intact" in ok.output


def test_the_mac_is_keyed(world, app):
    """The stored MAC is HMAC under the chain key, not a hash anyone can recompute."""
    row = chain()[0]
    assert row["hash"] == audit.row_mac(audit.chain_key(), row["log"], 1, "", row)
    assert row["hash"] != audit.row_mac(b"another key", row["log"], 1, "", row)
    assert row["hash"] != audit.legacy_link_hash("", row)
    # Derived from SECRET_KEY under a label of its own, or AUDIT_CHAIN_KEY when set.
    assert audit.chain_key({"SECRET_KEY": "test-secret"}) not in (b"test-secret", hashlib.sha256(b"test-secret"))
    assert audit.chain_key({"AUDIT_CHAIN_KEY": "k" * 40, "SECRET_KEY": "x"}) == b"k" * 40


def test_a_short_chain_key_is_refused(app_config):
    from artisan_awards import create_app

    with pytest.raises(RuntimeError, match="AUDIT_CHAIN_KEY"):
        create_app({**app_config, "AUDIT_CHAIN_KEY": "short"})


# -- deletions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", [0, 1, 2], ids=["first", "middle", "last"])
def test_deleting_one_row_of_a_dossier_is_caught(world, runner, db_kind, monkeypatch, which):
    moves = moves_of(world.a)
    gone = moves[which]
    attack(db_kind, ("DELETE FROM transition_log WHERE id = :id", {"id": gone["id"]}))
    result = broken(runner)
    after = next(r for r in chain() if r["seq"] == gone["seq"] + 1)
    where = (f"log row {after['id']} (nomination {after['nomination_id']}) seq {after['seq']}"
             if after["log"] == "transition_log" else f"admin event {after['id']} seq {after['seq']}")
    assert f"BROKEN at {where}: row {gone['seq']} of the chain is missing (deleted)" in result.output
    if which == 2:  # the dossier's state no longer matches its (new) last row
        assert (f"BROKEN at nomination {world.ids.a} (last log row {moves[1]['id']}): the state column says "
                f"'closed_incomplete' but the last log row says 'returned'") in result.output
    # Broken variant: without the numbering (and the state check) the deletion passes.
    passes_without(runner, monkeypatch, "_link_problem", "_check_nominations")


def test_deleting_a_whole_dossier_with_its_rows_is_caught(world, runner, db_kind, monkeypatch):
    moves = moves_of(world.b)
    first, last = moves[0]["seq"], moves[-1]["seq"]
    attack(db_kind, ("DELETE FROM transition_log WHERE nomination_id = :id", {"id": world.ids.b}),
           # its one-stop notices (and the mail that carried them) go with it
           ("DELETE FROM outbox_attachments WHERE notice_id IN "
            "(SELECT id FROM one_stop_notices WHERE nomination_id = :id)", {"id": world.ids.b}),
           ("DELETE FROM one_stop_notices WHERE nomination_id = :id", {"id": world.ids.b}),
           # and its in-app notifications and the log of who read it (issue 13, issue 17)
           ("DELETE FROM inbox_notifications WHERE nomination_id = :id", {"id": world.ids.b}),
           ("DELETE FROM personal_data_reads WHERE nomination_id = :id", {"id": world.ids.b}),
           ("DELETE FROM nominations WHERE id = :id", {"id": world.ids.b}))
    assert db.session.get(Nomination, world.ids.b) is None
    result = broken(runner)
    assert f"rows {first}..{last} of the chain are missing (deleted) before this row" in result.output
    passes_without(runner, monkeypatch, "_link_problem")


def test_deleting_the_newest_rows_is_caught_by_the_head_and_by_a_checkpoint(world, runner, db_kind, monkeypatch,
                                                                              tmp_path):
    saved = tmp_path / "checkpoint.json"
    assert runner.invoke(args=["audit", "checkpoint", "-o", str(saved)]).exit_code == 0
    rows = chain()
    tail = rows[-1]
    assert tail["log"] == "transition_log" and tail["nomination_id"] == world.ids.c
    attack(db_kind, ("DELETE FROM transition_log WHERE id = :id", {"id": tail["id"]}))
    result = broken(runner)
    assert (f"BROKEN at chain head seq {tail['seq']}: the newest row {tail['seq']} of the chain is missing "
            f"(deleted)") in result.output
    # The attacker also rewinds the head and the dossier's state: only a checkpoint sees it now.
    attack(db_kind, ("UPDATE audit_chain_head SET seq = :seq, hash = :hash",
                     {"seq": rows[-2]["seq"], "hash": rows[-2]["hash"]}),
           ("UPDATE nominations SET state = 'submitted' WHERE id = :id", {"id": world.ids.c}))
    assert verify(runner).exit_code == 0  # the limit of a chain alone: a truncated tail
    result = broken(runner, "--checkpoint", str(saved))
    assert f"row {tail['seq']}, the head at the checkpoint of" in result.output
    assert "is no longer in the chain" in result.output
    monkeypatch.setattr(audit, "_check_checkpoint", lambda *a, **k: None)
    assert verify(runner, "--checkpoint", str(saved)).exit_code == 0


def test_deleting_an_admin_event_is_caught(world, runner, db_kind, monkeypatch):
    gone = next(r for r in chain() if r["log"] == "audit_events" and r["id"] == world.ids.e1)
    attack(db_kind, ("DELETE FROM audit_events WHERE id = :id", {"id": gone["id"]}))
    result = broken(runner)
    assert (f"BROKEN at admin event {world.ids.e2} seq {gone['seq'] + 1}: row {gone['seq']} of the chain is "
            f"missing (deleted)") in result.output
    passes_without(runner, monkeypatch, "_link_problem")


# -- edits ---------------------------------------------------------------------------------------

def test_editing_an_admin_event_is_caught(world, runner, db_kind, monkeypatch):
    target = next(r for r in chain() if r["log"] == "audit_events" and r["id"] == world.ids.e2)
    attack(db_kind, ("UPDATE audit_events SET target_label = 'Đợt khác', actor_name = 'Người khác' "
                     "WHERE id = :id", {"id": target["id"]}))
    result = broken(runner)
    assert (f"BROKEN at admin event {target['id']} seq {target['seq']}: the row's content does not match its MAC"
            in result.output)
    passes_without(runner, monkeypatch, "_mac_problem")


def test_editing_a_log_row_is_caught(world, runner, db_kind, monkeypatch):
    target = moves_of(world.a)[1]
    attack(db_kind, ("UPDATE transition_log SET comment = 'Đã sửa' WHERE id = :id", {"id": target["id"]}))
    result = broken(runner)
    assert (f"BROKEN at log row {target['id']} (nomination {world.ids.a}) seq {target['seq']}: the row's content "
            f"does not match its MAC") in result.output
    passes_without(runner, monkeypatch, "_mac_problem")


def test_changing_a_dossiers_state_alone_is_caught(world, runner, db_kind, monkeypatch, make):
    draft = SimpleNamespace(id=make.nomination(State.DRAFT).id)
    last = moves_of(world.a)[-1]
    attack(db_kind, ("UPDATE nominations SET state = 'accepted' WHERE id = :id", {"id": world.ids.a}),
           ("UPDATE nominations SET state = 'submitted' WHERE id = :id", {"id": draft.id}),
           ("UPDATE nominations SET province_code = 'HPG' WHERE id = :id", {"id": world.ids.b}))
    result = broken(runner)
    assert (f"BROKEN at nomination {world.ids.a} (last log row {last['id']}): the state column says 'accepted' "
            f"but the last log row says 'closed_incomplete'") in result.output
    assert f"BROKEN at nomination {draft.id} (last log row None): the dossier is in state 'submitted' but has no " \
           f"log row" in result.output
    assert f"BROKEN at nomination {world.ids.b} " in result.output and "the province column says 'HPG'" in result.output
    passes_without(runner, monkeypatch, "_check_nominations")


# -- a rewrite of the whole chain without the key ------------------------------------------------

def _rewrite(db_kind, scheme: str):
    """The attacker edits a row, then recomputes every link and the head so the chain is consistent."""
    rows = chain()
    rows[2] = {**rows[2], "comment": "Đã sửa lại toàn bộ"}
    prev, statements = "", []
    for row in rows:
        if scheme == "unkeyed":  # the old scheme: plain SHA-256 over the previous hash and the fields
            mac = audit.legacy_link_hash(prev, row) if row["log"] == "transition_log" else hashlib.sha256(
                (prev + json.dumps(row, default=str, sort_keys=True)).encode()).hexdigest()
        else:  # the new scheme, with a key of the attacker's own
            mac = audit.row_mac(b"a key the attacker chose", row["log"], row["seq"], prev, row)
        extra = ", comment = :comment" if row["log"] == "transition_log" else ""
        statements.append((f"UPDATE {row['log']} SET prev_hash = :prev, hash = :mac{extra} WHERE id = :id",
                           {"prev": prev, "mac": mac, "id": row["id"], "comment": row.get("comment")}))
        prev = mac
    statements.append(("UPDATE audit_chain_head SET hash = :mac", {"mac": prev}))
    attack(db_kind, *statements)
    return rows


@pytest.mark.parametrize("scheme", ["unkeyed", "wrong_key"])
def test_rewriting_and_rehashing_the_whole_chain_without_the_key_is_caught(world, runner, db_kind, monkeypatch,
                                                                             tmp_path, scheme):
    saved = tmp_path / "checkpoint.json"
    assert runner.invoke(args=["audit", "checkpoint", "-o", str(saved)]).exit_code == 0
    assert verify(runner, "--checkpoint", str(saved)).exit_code == 0
    rows = _rewrite(db_kind, scheme)
    result = broken(runner)
    for row in rows:  # every row is named: none of the recomputed MACs holds under the real key
        where = (f"log row {row['id']} (nomination {row['nomination_id']}) seq {row['seq']}"
                 if row["log"] == "transition_log" else f"admin event {row['id']} seq {row['seq']}")
        assert f"BROKEN at {where}: the row's content does not match its MAC" in result.output
    # Without the MAC check the rewrite passes; the checkpoint exported before still catches it.
    passes_without(runner, monkeypatch, "_mac_problem")
    result = broken(runner, "--checkpoint", str(saved))
    assert (f"BROKEN at checkpoint {saved}: row {rows[-1]['seq']} no longer has the MAC it had at the checkpoint"
            in result.output)
    monkeypatch.setattr(audit, "_check_checkpoint", lambda *a, **k: None)
    assert verify(runner, "--checkpoint", str(saved)).exit_code == 0


def test_a_forged_checkpoint_is_refused(world, runner, tmp_path, app):
    saved = tmp_path / "checkpoint.json"
    runner.invoke(args=["audit", "checkpoint", "-o", str(saved)])
    statement = json.loads(saved.read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**statement, "seq": statement["seq"] - 1}))
    other = tmp_path / "other-key.json"
    with db.engine.connect() as conn:
        other.write_text(audit.checkpoint_json(audit.checkpoint(conn, key=b"another key")))
    for path in (forged, other):
        result = broken(runner, "--checkpoint", str(path))
        assert f"BROKEN at checkpoint {path}: the checkpoint's signature does not match" in result.output
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert "not an audit checkpoint" in verify(runner, "--checkpoint", str(junk)).output


# -- checkpoints ---------------------------------------------------------------------------------

def test_a_checkpoint_is_extended_by_later_rows(world, runner, tmp_path, make):
    out = runner.invoke(args=["audit", "checkpoint"])
    assert out.exit_code == 0
    statement = json.loads(out.output)
    assert statement["seq"] == len(chain()) and statement["hash"] == chain()[-1]["hash"]
    saved = tmp_path / "cp.json"
    saved.write_text(out.output)
    make.nomination(State.ACCEPTED, officer=world.officer)
    result = verify(runner, "--checkpoint", str(saved))
    assert result.exit_code == 0 and "extends 1 checkpoint(s)" in result.output


def test_no_checkpoint_of_a_broken_chain(world, runner, db_kind, tmp_path):
    attack(db_kind, ("UPDATE transition_log SET comment = 'x' WHERE id = :id", {"id": moves_of(world.a)[0]["id"]}))
    saved = tmp_path / "cp.json"
    result = runner.invoke(args=["audit", "checkpoint", "-o", str(saved)])
    assert result.exit_code == 1 and not saved.exists()


def test_the_round_export_carries_a_signed_checkpoint(app, make, runner, tmp_path):
    from artisan_awards.documents import jobs
    from artisan_awards.models import DocumentTask

    nomination = make.nomination(State.SUBMITTED)
    ministry = make.user("ministry_officer")
    task = DocumentTask(round_id=nomination.round_id, requested_by_id=ministry.id)
    db.session.add(task)
    db.session.commit()
    jobs.run_task(task.id)
    task = db.session.get(DocumentTask, task.id)
    assert task.status == "done", task.message
    from artisan_awards import storage

    with zipfile.ZipFile(io.BytesIO(storage.storage().get(task.result_name))) as z:
        statement = json.loads(z.read(jobs.CHECKPOINT_PATH))
    assert statement["round_id"] == nomination.round_id and statement["chain_verified"] is True
    assert statement["seq"] == len(chain())
    saved = tmp_path / "round.json"
    saved.write_text(json.dumps(statement))
    assert verify(runner, "--checkpoint", str(saved)).exit_code == 0


# -- concurrency ---------------------------------------------------------------------------------

def _parallel_writes(app, officer, admin, ids) -> tuple[list, float]:
    """Accept each dossier in its own thread while four threads write admin events, all at once."""
    # The threads get ids, never the caller's ORM objects: one instance refreshed by several
    # threads through one session is a race SQLAlchemy does not allow.
    officer_id, admin_id = officer.id, admin.id
    db.session.remove()
    start, errors = threading.Barrier(len(ids) + 4), []

    def move(ident):
        with app.app_context():
            try:
                start.wait()
                service.perform(db.session.get(Nomination, ident), Action.ACCEPT, db.session.get(User, officer_id))
            except Exception as exc:  # noqa: BLE001 - reported by the caller
                errors.append(exc)
            finally:
                db.session.remove()

    def events(n):
        with app.app_context():
            try:
                start.wait()
                for i in range(5):
                    audit_log.record(AuditKind.ROUND_CHANGED, db.session.get(User, admin_id), target_label=f"{n}-{i}")
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=move, args=(i,)) for i in ids]
    threads += [threading.Thread(target=events, args=(n,)) for n in range(4)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors, time.monotonic() - began


@pytest.mark.parametrize("variant", ["locked", "broken"])
def test_parallel_writes_keep_the_numbering_gap_free(app, make, runner, db_kind, monkeypatch, variant):
    """Transitions on different dossiers and admin events at the same moment: no gap, no duplicate.

    The broken variant reads the head without its lock: concurrent transactions then take the same
    numbers (refused by the unique index, or a fork of the chain that verify reports)."""
    if db_kind != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises every writer)")
    officer = make.user("province_officer", "HNI")
    admin = make.user("admin")
    ids = [make.nomination(State.SUBMITTED).id for _ in range(12)]
    before = len(chain())
    if variant == "broken":
        def unlocked(connection):
            head = audit.head_table()
            row = connection.execute(sa.select(head.c.seq, head.c.hash)).one()
            time.sleep(0.05)  # the window another transaction reads the same head in
            return int(row.seq), row.hash

        monkeypatch.setattr(audit, "_lock_head", unlocked)
    errors, elapsed = _parallel_writes(app, officer, admin, ids)
    if variant == "broken":
        assert errors or verify(runner).exit_code == 1
        print(f"broken variant: {len(errors)} writers refused ({type(errors[0]).__name__ if errors else '-'})")
        return
    assert not errors, errors
    assert [r["seq"] for r in chain()] == list(range(1, before + 12 + 20 + 1))
    result = verify(runner)
    assert result.exit_code == 0, result.output
    print(f"32 chained writes from 16 threads in {elapsed:.2f} s")


# -- the migration -------------------------------------------------------------------------------

def test_the_migration_numbers_and_macs_existing_rows(world, app, runner):
    """Down to the revision before 0013 (the unkeyed per-dossier chain comes back), then up again:
    every row is numbered."""
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    db.engine.dispose()
    downgrade(revision="0013-1")
    with db.engine.connect() as conn:
        table = audit.log_table()
        rows = conn.execute(sa.select(table).order_by(table.c.nomination_id, table.c.id)).mappings().all()
        last = {}
        for row in rows:  # the 0006 scheme holds again
            assert row["prev_hash"] == last.get(row["nomination_id"], "")
            assert row["hash"] == audit.legacy_link_hash(row["prev_hash"], dict(row))
            last[row["nomination_id"]] = row["hash"]
    db.engine.dispose()
    upgrade()
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: 7 log rows and 2 admin events" in result.output
    assert [r["seq"] for r in chain()] == list(range(1, 10))


# -- the admin page ------------------------------------------------------------------------------

def test_the_admin_audit_page_shows_the_chain_status(world, client, auth, db_kind, monkeypatch):
    auth.login_as("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    seq = len(chain())
    assert f"Chuỗi nhật ký có khóa: {seq} bản ghi" in page  # the login just made is counted too
    client.post("/lang/en")
    assert f"Keyed log chain: {seq} records" in client.get("/admin/audit").get_data(as_text=True)
    client.post("/lang/vi")
    attack(db_kind, ("DELETE FROM audit_events WHERE id = :id", {"id": world.ids.e1}))
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Chuỗi nhật ký không khớp" in page
    monkeypatch.setattr(audit, "quick_status", lambda *a, **k: {"ok": True, "seq": 0, "at": None})
    assert "Chuỗi nhật ký không khớp" not in client.get("/admin/audit").get_data(as_text=True)
