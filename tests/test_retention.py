"""Issue 17, acceptance 3: the retention job, run on a database holding records of every kind at every
age (one day before and one day after each period), changes exactly what is due (counted), leaves every
other row byte-identical, keeps what must be archived and keeps the audit chain verifiable."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_awards import audit_chain
from artisan_awards.extensions import db
from artisan_awards.models import (
    AuditEvent,
    DocumentTask,
    LoginSession,
    LoginThrottle,
    Nomination,
    OutboxMessage,
    PublicComment,
    TaskStatus,
)
from artisan_awards.services import retention
from artisan_awards.timeutil import now_utc
from workflows.states import State

DAY = timedelta(days=1)
# the derived counts table moves with a deleted draft (triggers); checked against a recount instead
DERIVED = {"nomination_counts"}


def _dump() -> dict[str, dict]:
    """Every row of every table, read with plain SQL, keyed by its primary key."""
    conn = db.session.connection()
    out = {}
    for table in db.metadata.sorted_tables:
        pk = [c.name for c in table.primary_key.columns]
        rows = conn.execute(sa.text(f'SELECT * FROM "{table.name}"')).mappings().all()
        out[table.name] = {tuple(r[c] for c in pk): tuple(r.items()) for r in rows}
    return out


def _set(model, row_id, **values):
    db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
    db.session.commit()


@pytest.fixture
def aged(app, make, tmp_path):
    """Every kind of record, one just before and one just after its period, and records always kept."""
    now = now_utc()
    app.config["RETENTION_BACKUP_DIR"] = str(tmp_path / "backups")
    (tmp_path / "backups").mkdir()
    ids: dict[str, int | str] = {}

    def age(kind, due):
        return now - timedelta(days=retention.period_days(kind)) + (-DAY if due else DAY)

    for due in (True, False):
        tag = "due" if due else "kept"
        draft = make.nomination(State.DRAFT, nominee={"full_name": f"Nháp {tag}"})
        _set(Nomination, draft.id, updated_at=age("draft", due))
        ids[f"draft_{tag}"] = draft.id
        for state in (State.WITHDRAWN, State.CLOSED_INCOMPLETE):
            n = make.nomination(state, nominee={"full_name": f"Kết thúc {state} {tag}"})
            _set(Nomination, n.id, state_changed_at=age("ended_dossier", due))
            ids[f"{state}_{tag}"] = n.id
        comment = PublicComment(nomination_id=ids[f"withdrawn_{tag}"], kind="complaint",
                                full_name="Người Gửi", phone="0903111222", address="Số 1 phố Huế",
                                content="Khiếu nại", window="public_consultation", status="unsubstantiated",
                                created_at=age("comment", due))
        user = make.user("applicant")
        session = LoginSession(user_id=user.id, key_hash=os.urandom(32).hex(), user_agent="Firefox",
                               client_address="10.0.0.1", created_at=age("log", due) - DAY,
                               last_seen_at=age("log", due), ended_at=age("log", due), ended_reason="logout")
        throttle = LoginThrottle(scope_hash=os.urandom(32).hex(), failures=2, last_failed_at=age("log", due))
        mail = OutboxMessage(to="a@example.vn", subject="Thư", body="Nội dung", created_at=age("log", due),
                             sent_at=age("log", due))
        task = DocumentTask(round_id=make.current_round().id, requested_by_id=user.id, status=TaskStatus.DONE,
                            done=1, total=1, created_at=age("export", due), finished_at=age("export", due))
        db.session.add_all([comment, session, throttle, mail, task])
        db.session.commit()
        ids.update({f"comment_{tag}": comment.id, f"session_{tag}": session.id, f"throttle_{tag}": throttle.scope_hash,
                    f"mail_{tag}": mail.id, f"task_{tag}": task.id})
        backup = tmp_path / "backups" / f"{tag}.aabackup"
        backup.write_bytes(b"sealed")
        os.utime(backup, (age("backup", due).timestamp(),) * 2)
        ids[f"backup_{tag}"] = str(backup)
    # always kept, however old: a dossier in progress, a complaint still being verified, an unsent mail
    busy = make.nomination(State.SUBMITTED, nominee={"full_name": "Đang xử lý"})
    _set(Nomination, busy.id, state_changed_at=now - 4000 * DAY)
    open_complaint = PublicComment(nomination_id=busy.id, kind="complaint", full_name="Người Chờ",
                                   phone="0903999888", address="Huế", content="Đang xác minh",
                                   window="public_consultation", status="under_verification",
                                   created_at=now - 4000 * DAY)
    unsent = OutboxMessage(to="b@example.vn", subject="Chưa gửi", body="x", created_at=now - 4000 * DAY)
    db.session.add_all([open_complaint, unsent])
    db.session.commit()
    ids.update(busy=busy.id, open_complaint=open_complaint.id, unsent=unsent.id)
    return now, ids


EXPECTED = {"draft": 1, "ended_dossier": 2, "comment": 1, "log": 3, "export": 1, "backup": 1}


def test_the_dry_run_counts_and_changes_nothing(aged):
    now, _ids = aged
    before = _dump()
    report = retention.run(dry_run=True, now=now)
    assert report.counts == EXPECTED
    assert _dump() == before


def test_the_job_changes_exactly_what_is_due_and_the_chain_verifies(aged):
    now, ids = aged
    before = _dump()
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    report = retention.run(dry_run=False, now=now)
    assert report.counts == EXPECTED
    after = _dump()

    changed = {(t, k) for t in before for k in before[t] if after[t].get(k) != before[t][k]}
    added = {(t, k) for t in after for k in after[t] if k not in before[t]}
    nom, com = "nominations", "public_comments"
    draft_children = {(t, k) for t in ("craft_periods", "products") for k, row in before[t].items()
                      if dict(row)["nomination_id"] == ids["draft_due"]}
    ended_periods = {("craft_periods", k) for k, row in before["craft_periods"].items()
                     if dict(row)["nomination_id"] in (ids["withdrawn_due"], ids["closed_incomplete_due"])}
    expected = {
        (nom, (ids["draft_due"],)), (nom, (ids["withdrawn_due"],)), (nom, (ids["closed_incomplete_due"],)),
        (com, (ids["comment_due"],)), ("login_sessions", (ids["session_due"],)),
        ("login_throttles", (ids["throttle_due"],)), ("outbox_messages", (ids["mail_due"],)),
        ("document_tasks", (ids["task_due"],)), ("audit_chain_head", (1,)),
        *draft_children, *ended_periods,
    }
    assert {c for c in changed if c[0] not in DERIVED} == expected
    assert {a[0] for a in added} == {"audit_events"}  # one event: the run and its counts
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before + 1
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.kind == "retention_applied" and event.details["counts"] == EXPECTED

    # what the due rows became
    db.session.expire_all()
    assert db.session.get(Nomination, ids["draft_due"]) is None
    gone = db.session.get(Nomination, ids["withdrawn_due"])
    assert gone.full_name == retention.ANONYMISED_NAME and gone.phone is None and gone.address is None
    assert gone.birth_date is None and gone.personal_data_erased_at is not None
    assert gone.code and gone.state == State.WITHDRAWN  # what the chain checks is kept
    c = db.session.get(PublicComment, ids["comment_due"])
    assert (c.full_name, c.phone, c.address, c.content) == (None, None, None, "Khiếu nại")
    assert db.session.get(LoginSession, ids["session_due"]) is None
    assert db.session.get(LoginThrottle, ids["throttle_due"]) is None
    assert db.session.get(OutboxMessage, ids["mail_due"]) is None
    assert db.session.get(DocumentTask, ids["task_due"]) is None
    assert not os.path.exists(ids["backup_due"]) and os.path.exists(ids["backup_kept"])
    # the derived counts still agree with the dossiers
    counts = dict(db.session.execute(sa.text(
        "SELECT round_id || province_code || state, n FROM nomination_counts WHERE n <> 0")).all())
    recount = dict(db.session.execute(sa.text(
        "SELECT round_id || province_code || state, count(*) FROM nominations "
        "GROUP BY round_id, province_code, state")).all())
    assert counts == recount
    # the chain
    report = audit_chain.check(db.session.connection())
    assert report.ok, report.problems if hasattr(report, "problems") else report
    # a second run finds nothing more
    assert retention.run(dry_run=False, now=now).counts == {k: 0 for k in EXPECTED}


def test_a_period_of_zero_keeps_that_kind(app, aged):
    now, _ids = aged
    app.config["RETENTION_ENDED_DOSSIER_DAYS"] = 0
    assert retention.run(dry_run=True, now=now).counts["ended_dossier"] == 0


def test_the_cli_reports_counts_per_kind(app, aged):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("\t")[0:3:2] for line in result.output.splitlines()[1:])
    assert lines == {k: str(v) for k, v in EXPECTED.items()}
