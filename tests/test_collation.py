"""Vietnamese collation on both databases, and accent-free search."""

from __future__ import annotations

import itertools
import random
import unicodedata

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.text import search_key, vi_order, vi_sort_key
from workflows.states import State

# Expected orders a Vietnamese reader agrees with (the alphabet first, then the tone).
ORDERED = [
    "An", "Anh", "Ảnh", "Ánh", "Ạnh", "Ăn", "Âu", "Bùi", "Dương", "Đặng", "Đinh", "Hoàng",
    "Lê", "Lệ", "Ngô", "Nguyễn", "Ôn", "Ơn", "Phạm", "Trần", "Uy", "Ưng", "Vũ", "Yến",
]


def sorted_in_db(values: list[str]) -> list[str]:
    """Sort ``values`` with the database's ORDER BY under vi_order()."""
    db.session.execute(sa.text("CREATE TEMPORARY TABLE IF NOT EXISTS names (name VARCHAR(200))"))
    db.session.execute(sa.text("DELETE FROM names"))
    db.session.execute(sa.text("INSERT INTO names (name) VALUES (:name)"), [{"name": v} for v in values])
    table = sa.table("names", sa.column("name", sa.String))
    return list(db.session.scalars(sa.select(table.c.name).order_by(vi_order(table.c.name))))


def test_database_sorts_vietnamese_alphabet_and_tones(app, db_kind):
    shuffled = ORDERED[:]
    random.Random(4).shuffle(shuffled)
    assert sorted_in_db(shuffled) == ORDERED
    # the database's plain binary order would get this wrong: "Đặng" after "Trần"
    sorted_in_db(["Đặng", "Trần"])
    plain = list(db.session.scalars(sa.text("SELECT name FROM names ORDER BY name")))
    if db_kind == "sqlite":
        assert plain == ["Trần", "Đặng"]


def test_python_key_agrees_with_the_expected_order():
    assert sorted(reversed(ORDERED), key=vi_sort_key) == ORDERED
    assert vi_sort_key("Dương") < vi_sort_key("Đặng") < vi_sort_key("Hoàng")
    # NFD input sorts as its NFC form
    assert vi_sort_key(unicodedata.normalize("NFD", "Đặng")) == vi_sort_key("Đặng")


def _names(seed: int, count: int) -> list[str]:
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
              "Hồ", "Ngô", "Dương", "Lý", "Đào", "Đoàn", "Ưng", "Ông", "Ân", "Âu"]
    middle = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thu", "Xuân", "Quốc", "Gia", "Hoài", "Ái"]
    given = ["Anh", "Ánh", "Ảnh", "Ãnh", "Ạnh", "Ân", "Ấn", "Ẩn", "An", "Ăn", "Ắn", "Bình", "Cường", "Dũng",
             "Đạt", "Giang", "Hà", "Hạ", "Hả", "Hạnh", "Khoa", "Lan", "Lân", "Lễ", "Lê", "Lệ", "Mai", "Nga",
             "Ngà", "Ngả", "Ngã", "Ngạ", "Oanh", "Ơn", "Ôn", "Phúc", "Quý", "Sơn", "Tâm", "Thư", "Thu", "Ư", "Yến"]
    rng = random.Random(seed)
    combos = list(itertools.product(family, middle, given))
    rng.shuffle(combos)
    names = [" ".join(c) for c in combos[:count]]
    # a few case variants and short names, where the tertiary and length rules decide
    names += ["an", "AN", "An", "Ánh", "ánh", "Lê", "Lê A", "Lêa"]
    return names


def test_our_collation_matches_postgresql_icu(app, db_kind):
    """On PostgreSQL the database sorts with ICU: our key (SQLite's collation) must give the same order.

    On SQLite the same test checks that the collation registered on the connection is the key's.
    """
    names = _names(7, 2000)
    assert sorted_in_db(names) == sorted(names, key=vi_sort_key)
    compiled = str(sa.select(vi_order(sa.column("x"))).compile(dialect=db.engine.dialect))
    assert ('COLLATE "vi-x-icu"' if db_kind == "postgresql" else "COLLATE vi") in compiled


def test_lists_sort_by_name_province_and_craft(client, auth, make):
    for name, craft in [("Hoàng Văn Hải", "Sơn mài"), ("Đặng Thị Tâm", "Gốm"), ("Dương Văn Bé", "Đúc đồng")]:
        make.nomination(State.SUBMITTED, nominee={"full_name": name}, craft=craft)
    make.nomination(State.SUBMITTED, province="HPG", nominee={"full_name": "Ân Thị Hà"}, craft="Chạm bạc")
    auth.login_as("admin")  # sees dossiers still at the province
    html = client.get("/ministry/nominations?sort=name").get_data(as_text=True)
    positions = [html.index(n) for n in ("Ân Thị Hà", "Dương Văn Bé", "Đặng Thị Tâm", "Hoàng Văn Hải")]
    assert positions == sorted(positions)
    html = client.get("/ministry/nominations?sort=craft").get_data(as_text=True)
    positions = [html.index(n) for n in ("Chạm bạc", "Đúc đồng", "Gốm", "Sơn mài")]
    assert positions == sorted(positions)
    html = client.get("/ministry/nominations?sort=province").get_data(as_text=True)
    # Hà Nội before Hải Phòng (à is a tone: the secondary level), then by name within the province
    positions = [html.index(n) for n in ("Dương Văn Bé", "Đặng Thị Tâm", "Hoàng Văn Hải", "Ân Thị Hà")]
    assert positions == sorted(positions)
    # an unknown sort key is ignored, not a server error
    assert client.get("/ministry/nominations?sort=%27;drop").status_code == 200


def test_province_inbox_sorts_by_name(client, auth, make):
    for name in ("Hoàng Văn Hải", "Đặng Thị Tâm", "Dương Văn Bé"):
        make.nomination(State.SUBMITTED, nominee={"full_name": name})
    auth.login_as("province_officer", "HNI")
    html = client.get("/province/inbox?sort=name").get_data(as_text=True)
    positions = [html.index(n) for n in ("Dương Văn Bé", "Đặng Thị Tâm", "Hoàng Văn Hải")]
    assert positions == sorted(positions)


def test_accent_free_search_finds_the_full_name(client, auth, make):
    make.nomination(State.SUBMITTED, nominee={"full_name": "Nguyễn Văn Ánh"})
    make.nomination(State.SUBMITTED, nominee={"full_name": "Nguyễn Văn Bình"})
    assert search_key("  Nguyễn   Văn ÁNH ") == "nguyen van anh"
    auth.login_as("admin")
    for query in ("nguyen van anh", "NGUYEN VAN ANH", "Nguyễn Văn Ánh", unicodedata.normalize("NFD", "văn ánh")):
        html = client.get("/ministry/nominations", query_string={"q": query}).get_data(as_text=True)
        assert "Nguyễn Văn Ánh" in html and "Nguyễn Văn Bình" not in html, query
    # "đ" is searched as "d"
    make.nomination(State.SUBMITTED, nominee={"full_name": "Đỗ Thị Đào"})
    html = client.get("/ministry/nominations", query_string={"q": "do thi dao"}).get_data(as_text=True)
    assert "Đỗ Thị Đào" in html


def test_province_pickers_and_the_agenda_use_vietnamese_order(client, auth, make):
    names = [p["name"] for p in client.get("/api/v1/provinces").get_json()]
    assert names == sorted(names, key=vi_sort_key)
    # Đ is a letter after D, not after Y as in a binary order
    assert names.index("Đồng Nai") < names.index("Gia Lai") < names.index("Tây Ninh")
    for name in ("Hoàng Văn Hải", "Đặng Thị Tâm", "Dương Văn Bé"):
        make.nomination(State.ACCEPTED, nominee={"full_name": name})
    auth.login_as("province_council_member", "HNI")
    html = client.get("/council/agenda").get_data(as_text=True)
    positions = [html.index(n) for n in ("Dương Văn Bé", "Đặng Thị Tâm", "Hoàng Văn Hải")]
    assert positions == sorted(positions)
