"""sealed ballots: the ballot box, WITHOUT ROWID participation, and the reasons of non-voters

``sealed_ballots`` holds one sealed box per ballot while a session is open (random id, no member,
no time); the close opens, counts and deletes them.  On SQLite both it and
``ballot_participation`` are WITHOUT ROWID tables, so the file keeps their rows in key order, not
in the order the ballots came.  ``session_non_voters`` keeps, for each present member who did not
vote, the reason the secretariat recorded at the close (shown in the minutes).

Apply it with no session open: ballots cast before it were counted on the agenda rows at once,
and the close now expects one box per participation.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _participation(name: str, with_rowid: bool) -> sa.Table:
    kwargs = {} if with_rowid else {"sqlite_with_rowid": False}
    return op.create_table(
        name,
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["council_members.id"],
                                name="fk_ballot_participation_member_id_council_members"),
        sa.ForeignKeyConstraint(["session_id"], ["council_sessions.id"],
                                name="fk_ballot_participation_session_id_council_sessions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "member_id", name="pk_ballot_participation"),
        **kwargs,
    )


def _rebuild_participation(with_rowid: bool) -> None:
    """SQLite cannot switch a table to or from WITHOUT ROWID in place: copy it into a new one."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.rename_table("ballot_participation", "ballot_participation_old")
    _participation("ballot_participation", with_rowid)
    op.execute("INSERT INTO ballot_participation (session_id, member_id) "
               "SELECT session_id, member_id FROM ballot_participation_old ORDER BY session_id, member_id")
    op.drop_table("ballot_participation_old")


def upgrade():
    bind = op.get_bind()
    open_with_ballots = bind.execute(sa.text(
        "SELECT count(*) FROM council_sessions s WHERE s.status = 'open' AND EXISTS "
        "(SELECT 1 FROM ballot_participation p WHERE p.session_id = s.id)")).scalar()
    if open_with_ballots:
        raise RuntimeError("Close every open council session before this upgrade (0012): "
                           f"{open_with_ballots} open session(s) already have ballots counted the old way.")
    op.create_table(
        "sealed_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("box", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["council_sessions.id"],
                                name=op.f("fk_sealed_ballots_session_id_council_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_ballots")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_sealed_ballots_session_id"), "sealed_ballots", ["session_id"])
    op.create_table(
        "session_non_voters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["council_members.id"],
                                name=op.f("fk_session_non_voters_member_id_council_members")),
        sa.ForeignKeyConstraint(["session_id"], ["council_sessions.id"],
                                name=op.f("fk_session_non_voters_session_id_council_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_non_voters")),
        sa.UniqueConstraint("session_id", "member_id", name="uq_session_non_voters_member"),
    )
    op.create_index(op.f("ix_session_non_voters_session_id"), "session_non_voters", ["session_id"])
    _rebuild_participation(with_rowid=False)


def downgrade():
    _rebuild_participation(with_rowid=True)
    op.drop_index(op.f("ix_session_non_voters_session_id"), table_name="session_non_voters")
    op.drop_table("session_non_voters")
    op.drop_index(op.f("ix_sealed_ballots_session_id"), table_name="sealed_ballots")
    op.drop_table("sealed_ballots")
