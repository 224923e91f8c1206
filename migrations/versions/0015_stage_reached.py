"""stage_reached: the highest stage a dossier has reached, so national roles see it from their stage on

A national role (ministry officer, council members at ministry and state level, government officer)
sees a dossier only once it has reached that role's stage, and keeps seeing it afterwards (rejected,
withdrawn or awarded later).  A withdrawn or held dossier's state does not say how far it came, so the
state machine's moves keep the highest stage reached in this column (``workflows.machine.advance``).
The upgrade fills it from each dossier's log (every state it entered) and its current state.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from workflows.machine import STAGE_OF

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _stage_case(column: str) -> str:
    whens = " ".join(f"WHEN '{state.value}' THEN {int(stage)}" for state, stage in STAGE_OF.items())
    return f"CASE {column} {whens} ELSE 0 END"


def upgrade():
    # a plain ADD COLUMN on both databases (batch mode would rebuild the SQLite table and lose its triggers)
    op.add_column("nominations", sa.Column("stage_reached", sa.SmallInteger(), nullable=False, server_default="0"))
    from_log = (f"(SELECT max({_stage_case('transition_log.to_state')}) FROM transition_log "
                "WHERE transition_log.nomination_id = nominations.id)")
    current = _stage_case("nominations.state")
    # the larger of the two (CASE rather than GREATEST/MAX(a, b), which the two databases spell apart)
    op.execute(f"UPDATE nominations SET stage_reached = CASE WHEN coalesce({from_log}, 0) > {current} "
               f"THEN coalesce({from_log}, 0) ELSE {current} END")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place, keeping the triggers
        op.execute("ALTER TABLE nominations DROP COLUMN stage_reached")
    else:
        op.drop_column("nominations", "stage_reached")
