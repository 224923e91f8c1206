"""audit chain: a hash per transition-log row, chained per nomination

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transition_log_no_update ON transition_log")
    else:
        op.execute("DROP TRIGGER IF EXISTS transition_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS transition_log_no_delete")


def _create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER transition_log_no_update BEFORE UPDATE OR DELETE ON transition_log "
            "FOR EACH ROW EXECUTE FUNCTION transition_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER transition_log_no_{verb.lower()} BEFORE {verb} ON transition_log "
                "BEGIN SELECT RAISE(ABORT, 'transition_log is append-only'); END"
            )


def upgrade():
    # The append-only triggers are lifted only while existing rows get their hashes.
    _drop_triggers()
    with op.batch_alter_table("transition_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=False, server_default=""))
    from artisan_awards.audit_chain import link_hash, log_table

    bind = op.get_bind()
    table = log_table()
    rows = bind.execute(sa.select(table).order_by(table.c.nomination_id, table.c.id)).mappings().all()
    last: dict = {}
    import json

    for row in rows:
        meta = row["meta"]
        if isinstance(meta, str):
            meta = json.loads(meta)
        prev = last.get(row["nomination_id"], "")
        digest = link_hash(prev, {**row, "meta": meta})
        bind.execute(sa.update(table).where(table.c.id == row["id"]).values(prev_hash=prev, hash=digest))
        last[row["nomination_id"]] = digest
    _create_triggers()


def downgrade():
    _drop_triggers()
    with op.batch_alter_table("transition_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    _create_triggers()
