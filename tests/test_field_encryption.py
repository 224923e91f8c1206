"""Issue 17, acceptance 4: a database reader without the application's keys cannot read the encrypted
fields; search still works where it must (a keyed index, not plain text); least privilege on fields
(every column has a sensitivity class; masked for roles without the need, shown on demand with a
logged reason)."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
import sqlalchemy as sa

from artisan_awards import field_crypto, permissions, personal_fields
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, PublicComment
from artisan_awards.services import queries

pytestmark = pytest.mark.realdb  # reads the committed rows through another connection

SECRETS = {
    "birth": "1960-05-01", "address": "Xóm 3, xã Bát Tràng, Hà Nội", "phone": "0912345678",
    "family_phone": "0987111222", "family_mail": "giadinh@example.vn",
    "c_phone": "0903555777", "c_address": "Số 8 phố Hàng Bạc", "conflict": "Là cháu ruột của nghệ nhân",
}


def _fill(make):
    n = make.nomination()
    n.family_contact_phone = SECRETS["family_phone"]
    n.family_contact_email = SECRETS["family_mail"]
    db.session.add(PublicComment(nomination_id=n.id, kind="comment", full_name="Người Góp Ý",
                                 phone=SECRETS["c_phone"], address=SECRETS["c_address"],
                                 content="Góp ý", window="consultation"))
    db.session.commit()
    return n


def _raw_dump(app, db_kind) -> str:
    """Every value of every table, read with plain SQL (sqlite3 / psycopg), no application code."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    seen = []
    if db_kind == "sqlite":
        conn = sqlite3.connect(url.database)
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                seen.extend(str(v) for v in row)
        conn.close()
    else:
        import psycopg

        with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
            tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'").fetchall()
            for (table,) in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    seen.extend(str(v) for v in row)
    return "\n".join(seen)


def _leaks(dump: str) -> list[str]:
    return [k for k, v in SECRETS.items() if v in dump and k != "conflict"]


def test_a_database_reader_finds_no_plaintext(app, make, db_kind):
    n = _fill(make)
    dump = _raw_dump(app, db_kind)
    assert _leaks(dump) == []
    assert "enc1:" in dump
    # the application reads them back
    db.session.expire_all()
    n = db.session.get(Nomination, n.id)
    assert (n.phone, n.address, n.birth_date) == (SECRETS["phone"], SECRETS["address"], date(1960, 5, 1))
    assert n.family_contact_email == SECRETS["family_mail"]
    c = db.session.scalars(sa.select(PublicComment)).one()
    assert (c.phone, c.address) == (SECRETS["c_phone"], SECRETS["c_address"])


def test_the_plaintext_check_catches_encryption_turned_off(app, make, db_kind, monkeypatch):
    """Control: with the type decorator passing values through, the same reader sees them."""
    monkeypatch.setattr(field_crypto.EncryptedText, "process_bind_param",
                        lambda self, value, dialect: value.isoformat() if isinstance(value, date) else value)
    _fill(make)
    assert set(_leaks(_raw_dump(app, db_kind))) >= {"address", "phone", "family_phone", "c_phone", "c_address"}


def test_a_value_opens_only_with_its_key_and_in_its_column(app):
    sealed = field_crypto.encrypt("0912345678", "nominations.phone")
    assert field_crypto.decrypt(sealed, "nominations.phone") == "0912345678"
    with pytest.raises(field_crypto.FieldKeyError):  # moved to another column
        field_crypto.decrypt(sealed, "public_comments.phone")
    key = field_crypto.new_key()
    app.config["FIELD_ENCRYPTION_KEYS"] = f"k9={key}"
    with pytest.raises(field_crypto.FieldKeyError):  # the old (derived) key is gone
        field_crypto.decrypt(sealed, "nominations.phone")
    newer = field_crypto.encrypt("0912345678", "nominations.phone")
    assert field_crypto.key_id_of(newer) == "k9"
    # rotation: the new key first, the old one still listed, both open
    app.config["FIELD_ENCRYPTION_KEYS"] = f"k10={field_crypto.new_key()},k9={key}"
    assert field_crypto.decrypt(newer, "nominations.phone") == "0912345678"
    assert field_crypto.key_id_of(field_crypto.encrypt("x", "nominations.phone")) == "k10"


def test_a_phone_finds_its_dossier_by_the_keyed_index(app, make):
    n = _fill(make)
    officer = make.user("province_officer", "HNI")
    make.nomination(state="submitted", nominee={"phone": "0977000111"})
    from artisan_awards.services import nominations as service
    service.perform(n, "submit", n.owner)
    for query in ("0912345678", "+84 912 345 678", "0912.345.678"):
        found = db.session.scalars(queries.visible_query(officer, queries.Filters(q=query))).all()
        assert [x.id for x in found] == [n.id], query
    stored = db.session.execute(sa.text("SELECT phone_index FROM nominations WHERE id = :i"), {"i": n.id}).scalar()
    assert stored == field_crypto.phone_index("0912345678") and "0912345678" not in stored
    # the index is keyed: another FIELD_INDEX_KEY gives another value
    app.config["FIELD_INDEX_KEY"] = "another-index-key-of-enough-length-000"
    assert field_crypto.phone_index("0912345678") != stored


def test_every_column_has_a_sensitivity_class():
    missing = [f"{t.name}.{c.name}" for t in db.metadata.tables.values() for c in t.columns
               if c.name not in personal_fields.SENSITIVITY.get(t.name, {})]
    assert missing == []
    unknown = {cls for cols in personal_fields.SENSITIVITY.values() for cls in cols.values()} - set(
        personal_fields.CLASSES)
    assert unknown == set()
    stale = [f"{t}.{c}" for t, cols in personal_fields.SENSITIVITY.items() for c in cols
             if t not in db.metadata.tables or c not in db.metadata.tables[t].columns]
    assert stale == []
    for label in field_crypto.ENCRYPTED_COLUMNS:  # every encrypted column holds a maskable class
        table, column = label.split(".")
        assert personal_fields.SENSITIVITY[table][column] in personal_fields.MASKABLE


def test_a_new_column_without_a_class_fails_the_check(monkeypatch):
    """Control: a column added to a model and not to the registry is found."""
    table = db.metadata.tables["nominations"]
    extra = sa.Column("identity_number", sa.String(12))
    table.append_column(extra)
    try:
        missing = [f"{t.name}.{c.name}" for t in db.metadata.tables.values() for c in t.columns
                   if c.name not in personal_fields.SENSITIVITY.get(t.name, {})]
        assert missing == ["nominations.identity_number"]
    finally:
        table._columns.remove(extra)


def test_the_policy_names_every_role_and_masks_by_default(make):
    admin = make.user("admin")
    officer = make.user("province_officer", "HNI")
    member = make.user("province_council_member", "HNI")
    dpo = make.user("data_officer")
    n = make.nomination()
    assert permissions.field_access(n.owner, personal_fields.PHONE, n) == permissions.SHOW
    assert permissions.field_access(admin, personal_fields.PHONE, n) == permissions.MASK
    assert permissions.field_access(member, personal_fields.ADDRESS, n) == permissions.MASK
    assert permissions.field_access(officer, personal_fields.PHONE, n) == permissions.REVEAL
    assert permissions.field_access(officer, personal_fields.BIRTH_DATE, n) == permissions.SHOW
    assert permissions.field_access(dpo, personal_fields.COMMENTER_CONTACT) == permissions.REVEAL
    assert permissions.shown_value(member, personal_fields.PHONE, "0912345678", n) == "0912 *** 678"
    assert permissions.shown_value(member, personal_fields.BIRTH_DATE, date(1960, 5, 1), n) == "••/••/1960"
    assert permissions.shown_value(member, personal_fields.ADDRESS, "Xóm 3", n) == "•••"
    assert permissions.shown_value(officer, personal_fields.PHONE, "0912345678", n,
                                   revealed={personal_fields.PHONE}) == "0912345678"
    assert permissions.shown_value(member, personal_fields.PHONE, "0912345678", n,
                                   revealed={personal_fields.PHONE}) == "0912 *** 678"


def test_the_migration_encrypts_existing_rows_and_the_downgrade_opens_them(app, make, db_kind):
    from flask_migrate import downgrade, upgrade

    nid = _fill(make).id
    db.session.remove()
    downgrade(revision="0021")
    conn_sql = "SELECT phone, address, birth_date, family_contact_email FROM nominations WHERE id = :i"
    with db.engine.begin() as conn:
        phone, address, birth, mail = conn.execute(sa.text(conn_sql), {"i": nid}).one()
        assert (phone, address, mail) == (SECRETS["phone"], SECRETS["address"], SECRETS["family_mail"])
        assert str(birth) == SECRETS["birth"]
        conn.execute(sa.text("UPDATE nominations SET phone = '0988777666' WHERE id = :i"), {"i": nid})
    upgrade()
    assert _leaks(_raw_dump(app, db_kind)) == [] and "0988777666" not in _raw_dump(app, db_kind)
    db.session.expire_all()
    row = db.session.get(Nomination, nid)
    assert (row.phone, row.address, row.birth_date) == ("0988777666", SECRETS["address"], date(1960, 5, 1))
    assert row.phone_index == field_crypto.phone_index("0988777666")  # the keyed index filled for old rows


def test_rekey_moves_every_value_to_the_new_key(app, make):
    old = field_crypto.new_key()
    app.config["FIELD_ENCRYPTION_KEYS"] = f"k1={old}"
    nid = _fill(make).id
    app.config["FIELD_ENCRYPTION_KEYS"] = f"k2={field_crypto.new_key()},k1={old}"
    result = app.test_cli_runner().invoke(args=["privacy", "rekey"])
    assert result.exit_code == 0, result.output
    raw = db.session.execute(sa.text("SELECT phone, address, birth_date FROM nominations WHERE id = :i"),
                             {"i": nid}).one()
    assert {field_crypto.key_id_of(v) for v in raw} == {"k2"}
    comment = db.session.execute(sa.text("SELECT phone FROM public_comments")).scalar()
    assert field_crypto.key_id_of(comment) == "k2"
    app.config["FIELD_ENCRYPTION_KEYS"] = app.config["FIELD_ENCRYPTION_KEYS"].split(",")[0]  # the old key dropped
    db.session.expire_all()
    assert db.session.get(Nomination, nid).phone == SECRETS["phone"]
