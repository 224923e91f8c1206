"""audit chain: one keyed (HMAC-SHA256), numbered chain over transition_log and audit_events

Adds ``seq`` (a global sequence across both logs), ``prev_hash``/``hash`` to audit_events and the
one-row ``audit_chain_head``; replaces the unkeyed per-nomination hashes of 0006 by MACs under the
chain key (AUDIT_CHAIN_KEY, or derived from SECRET_KEY: the application's configuration at upgrade
time).  Existing rows are numbered in the order they were written (time, then id).

Revision ID: 0013
Revises: 0012
"""

import os
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("transition_log", "audit_events")


def _drop_triggers():
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def _create_triggers():
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            )
        else:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def _key() -> bytes:
    from artisan_awards.audit_chain import chain_key

    try:
        from flask import current_app

        return chain_key(current_app.config)
    except RuntimeError:  # alembic run without the application: the environment
        return chain_key({"AUDIT_CHAIN_KEY": os.environ.get("AUDIT_CHAIN_KEY"),
                          "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me")})


def upgrade():
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    # Plain ADD COLUMN (no table copy on SQLite), so the other triggers and indexes stay as they are.
    op.add_column("transition_log", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""))
    op.add_column("audit_events", sa.Column("hash", sa.String(64), nullable=False, server_default=""))
    op.create_index(op.f("ix_transition_log_seq"), "transition_log", ["seq"], unique=True)
    op.create_index(op.f("ix_audit_events_seq"), "audit_events", ["seq"], unique=True)

    from artisan_awards.audit_chain import FIELDS, head_table, log_table, row_mac

    bind = op.get_bind()
    key = _key()
    rows = []
    for name in TABLES:
        table = log_table(name, numbered=True)
        rows += [(name, dict(r)) for r in bind.execute(sa.select(table)).mappings()]

    def order(item):
        name, row = item
        at = row["at"]
        at = at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)  # SQLite: naive UTC
        return (at, TABLES.index(name), row["id"])

    rows.sort(key=order)
    # The append-only triggers are lifted only while existing rows get their numbers and MACs.
    _drop_triggers()
    prev, seq = "", 0
    for name, row in rows:
        seq += 1
        mac = row_mac(key, name, seq, prev, {f: row[f] for f in (*FIELDS[name], "at")})
        table = log_table(name, numbered=True)
        bind.execute(sa.update(table).where(table.c.id == row["id"]).values(seq=seq, prev_hash=prev, hash=mac))
        prev = mac
    _create_triggers()
    head = head_table()
    bind.execute(sa.insert(head).values(id=1, seq=seq, hash=prev))


def downgrade():
    from artisan_awards.audit_chain import legacy_link_hash, log_table

    bind = op.get_bind()
    _drop_triggers()
    op.drop_index(op.f("ix_audit_events_seq"), table_name="audit_events")
    op.drop_index(op.f("ix_transition_log_seq"), table_name="transition_log")
    # Back to 0006's unkeyed per-nomination hashes.
    table = log_table("transition_log")
    last: dict = {}
    for row in bind.execute(sa.select(table).order_by(table.c.nomination_id, table.c.id)).mappings().all():
        prev = last.get(row["nomination_id"], "")
        digest = legacy_link_hash(prev, dict(row))
        bind.execute(sa.update(table).where(table.c.id == row["id"]).values(prev_hash=prev, hash=digest))
        last[row["nomination_id"]] = digest
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    with op.batch_alter_table("transition_log") as batch:
        batch.drop_column("seq")
    op.drop_table("audit_chain_head")
    _create_triggers()
