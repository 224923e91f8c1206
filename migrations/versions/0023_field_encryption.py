"""field_encryption: personal fields encrypted at rest, a keyed index for the phone

The columns listed in ``artisan_awards.field_crypto.ENCRYPTED_COLUMNS`` (the nominee's birth date,
address and phone, the family's contacts, commenters' phone and address, conflict declarations)
become TEXT holding ``enc1:<key id>:<AES-GCM>`` under ``FIELD_ENCRYPTION_KEYS`` (or the key derived
from ``SECRET_KEY``): set the keys **before** ``flask db upgrade``.  ``nominations.phone_index`` is the
HMAC-SHA256 (``FIELD_INDEX_KEY``) of the phone's digits, so the lists still find a dossier by phone.
Existing rows are encrypted here, on SQLite and PostgreSQL; the downgrade decrypts them.
The ``data_officer`` role's CHECK comes with 0022; ``personal_data_erased_at`` on nominations and
public comments records what the retention job anonymised; ``personal_data_breaches`` is the data
officer's breach record.

SQLite keeps the columns' declared types (a TEXT value is stored as it is; no batch rebuild, which
would drop the counter triggers of 0011); PostgreSQL changes them to TEXT.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# table -> columns (the same list as field_crypto.ENCRYPTED_COLUMNS, frozen here as migrations must be)
COLUMNS = {
    "nominations": ("birth_date", "address", "phone", "family_contact_phone", "family_contact_email"),
    "public_comments": ("phone", "address"),
    "conflict_declarations": ("reason",),
}
# the PostgreSQL types before this migration, for the downgrade
OLD_TYPES = {
    ("nominations", "birth_date"): "DATE", ("nominations", "address"): "VARCHAR(300)",
    ("nominations", "phone"): "VARCHAR(30)", ("nominations", "family_contact_phone"): "VARCHAR(30)",
    ("nominations", "family_contact_email"): "VARCHAR(254)", ("public_comments", "phone"): "VARCHAR(30)",
    ("public_comments", "address"): "VARCHAR(300)", ("conflict_declarations", "reason"): "TEXT",
}


def _rewrite(bind, table: str, columns: tuple[str, ...], change, extra=None) -> None:
    rows = bind.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).mappings().all()
    for row in rows:
        values = {c: change(f"{table}.{c}", row[c]) for c in columns}
        if extra:
            values.update(extra(row))
        if all(values.get(c) == row[c] for c in columns) and not extra:
            continue
        sets = ", ".join(f"{c} = :{c}" for c in values)
        bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :id"), {**values, "id": row["id"]})


def upgrade():
    from artisan_awards import field_crypto

    bind = op.get_bind()
    op.add_column("nominations", sa.Column("phone_index", sa.String(64), nullable=True))
    # the retention job (services/retention.py) marks what it anonymised (plain ADD COLUMN: SQLite keeps its triggers)
    op.add_column("nominations", sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("public_comments", sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "personal_data_breaches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("affected_count", sa.Integer(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("authority_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("affected_count >= 0", name="ck_personal_data_breaches_affected_not_negative"),
    )
    op.create_index("ix_nominations_phone_index", "nominations", ["phone_index"])
    if bind.dialect.name == "postgresql":
        for (table, column) in OLD_TYPES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT USING {column}::text")

    def seal(label, value):
        if value is None or value == "" or field_crypto.is_encrypted(value):
            return value
        return field_crypto.encrypt(str(value), label)

    def index(row):
        phone = row["phone"]
        if field_crypto.is_encrypted(phone):
            phone = field_crypto.decrypt(phone, "nominations.phone")
        return {"phone_index": field_crypto.phone_index(phone)}

    for table, columns in COLUMNS.items():
        _rewrite(bind, table, columns, seal, index if table == "nominations" else None)


def downgrade():
    from artisan_awards import field_crypto

    bind = op.get_bind()

    def open_(label, value):
        return field_crypto.decrypt(value, label) if field_crypto.is_encrypted(value) else value

    for table, columns in COLUMNS.items():
        _rewrite(bind, table, columns, open_)
    if bind.dialect.name == "postgresql":
        for (table, column), kind in OLD_TYPES.items():
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {kind} USING {column}::{kind.lower()}")
    op.drop_table("personal_data_breaches")
    op.drop_index("ix_nominations_phone_index", table_name="nominations")
    for table, column in (("nominations", "phone_index"), ("nominations", "personal_data_erased_at"),
                          ("public_comments", "personal_data_erased_at")):
        if bind.dialect.name == "sqlite":  # in place, keeping the triggers
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
