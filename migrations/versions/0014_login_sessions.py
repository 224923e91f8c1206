"""login sessions that can be ended, login throttling instead of the hard lockout, token details

Revision ID: 0014
Revises: 0013

* ``login_sessions``: one row per browser login; the cookie carries a random key, the row its
  SHA-256.  Ending the row ends the cookie (and the remember-me cookie).
* ``login_throttles``: failed-login counters per account, per client address and per pair
  (services/throttle.py); they replace the lock kept in ``users.failed_logins`` /
  ``users.locked_until`` (migration 0007).  Those two columns are left in place, unused: dropping
  a column rebuilds ``users`` on SQLite, and with foreign keys on, dropping the old table would
  cascade to every table that refers to users.
* ``api_tokens``: when a token was last used and from which client, for the sessions page.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(120), nullable=False),
        sa.Column("client_address", sa.String(45), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(40), nullable=True),
        sa.UniqueConstraint("key_hash", name="uq_login_sessions_key_hash"),
    )
    op.create_index("ix_login_sessions_user_id", "login_sessions", ["user_id"])
    op.create_table(
        "login_throttles",
        sa.Column("scope_hash", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_throttles_last_failed_at", "login_throttles", ["last_failed_at"])
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(120), server_default="", nullable=False))
        batch_op.add_column(sa.Column("client_address", sa.String(45), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("client_address")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("last_seen_at")
    op.drop_index("ix_login_throttles_last_failed_at", table_name="login_throttles")
    op.drop_table("login_throttles")
    op.drop_index("ix_login_sessions_user_id", table_name="login_sessions")
    op.drop_table("login_sessions")
