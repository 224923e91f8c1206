"""personal_data: notices, consents, the person's requests and the log of who read their data (issue 17)

Four tables: ``privacy_notices`` (the notice's text per version, Vietnamese and English),
``consent_records`` (each consent given or refused, per purpose, with the notice's version and the
person), ``data_requests`` (correction, deletion, withdrawal: a case with its deadline and answer) and
``personal_data_reads`` (who opened a dossier, downloaded evidence or exported personal data, and why).
The role ``data_officer`` joins the CHECK on ``user_roles.role`` (the same replacement as the field
encryption migration makes: whichever runs second rewrites the same CHECK).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

OLD_ROLES = ("applicant", "province_officer", "province_council_member", "ministry_officer",
             "ministry_council_member", "state_council_member", "government_officer", "admin")
NEW_ROLES = OLD_ROLES + ("data_officer",)


def _roles_check(roles: tuple[str, ...]) -> None:
    """Replace user_roles' CHECK on the role names (SQLite: the small table is rebuilt, it has no trigger)."""
    check = "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE user_roles DROP CONSTRAINT IF EXISTS ck_user_roles_known_role")
        op.execute(f"ALTER TABLE user_roles ADD CONSTRAINT ck_user_roles_known_role CHECK ({check})")
        return
    op.execute("DROP INDEX IF EXISTS ix_user_roles_user_id")
    op.execute("ALTER TABLE user_roles RENAME TO user_roles_old")
    op.execute(
        "CREATE TABLE user_roles (id INTEGER NOT NULL, user_id INTEGER NOT NULL, role VARCHAR(40) NOT NULL, "
        f"CONSTRAINT ck_user_roles_known_role CHECK ({check}), "
        "CONSTRAINT fk_user_roles_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, "
        "CONSTRAINT pk_user_roles PRIMARY KEY (id), CONSTRAINT uq_user_roles_user_role UNIQUE (user_id, role))")
    op.execute("INSERT INTO user_roles (id, user_id, role) SELECT id, user_id, role FROM user_roles_old")
    op.execute("DROP TABLE user_roles_old")
    op.execute("CREATE INDEX ix_user_roles_user_id ON user_roles (user_id)")


def upgrade():
    _roles_check(NEW_ROLES)
    op.create_table(
        "privacy_notices",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("body_vi", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_privacy_notices_published_by_id_users"),
                  nullable=True),
    )
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_consent_records_user_id_users"),
                  nullable=True),
        sa.Column("comment_id", sa.Integer(),
                  sa.ForeignKey("public_comments.id", name="fk_consent_records_comment_id_public_comments"),
                  nullable=True),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("context", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("user_id IS NOT NULL OR comment_id IS NOT NULL", name="ck_consent_records_has_person"),
    )
    op.create_index("ix_consent_records_user_id", "consent_records", ["user_id"])
    op.create_index("ix_consent_records_comment_id", "consent_records", ["comment_id"])
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_data_requests_user_id_users"),
                  nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("done", sa.JSON(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_data_requests_answered_by_id_users"), nullable=True),
        sa.CheckConstraint("kind IN ('correction', 'deletion', 'withdrawal')", name="ck_data_requests_known_kind"),
        sa.CheckConstraint("status IN ('open', 'answered')", name="ck_data_requests_known_status"),
    )
    op.create_index("ix_data_requests_user_id", "data_requests", ["user_id"])
    op.create_index("ix_data_requests_status", "data_requests", ["status"])
    op.create_table(
        "personal_data_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_personal_data_reads_reader_id_users"),
                  nullable=False),
        sa.Column("reader_role", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_personal_data_reads_subject_id_users"), nullable=True),
        sa.Column("nomination_id", sa.Integer(),
                  sa.ForeignKey("nominations.id", name="fk_personal_data_reads_nomination_id_nominations",
                                ondelete="SET NULL"), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
    )
    op.create_index("ix_personal_data_reads_subject_id", "personal_data_reads", ["subject_id"])
    op.create_index("ix_personal_data_reads_nomination_id", "personal_data_reads", ["nomination_id"])


def downgrade():
    op.drop_table("personal_data_reads")
    op.drop_table("data_requests")
    op.drop_table("consent_records")
    op.drop_table("privacy_notices")
    op.execute("DELETE FROM user_roles WHERE role = 'data_officer'")
    _roles_check(OLD_ROLES)
