"""Partner systems managed by the administrator (issue 19 item 1): pages, the key shown once, the
mapping checked, deactivation and rotation, `flask partners`."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.integration import partners as service
from artisan_awards.models import Partner


def login(client, user, password):
    client.post("/login", data={"email": user.email, "password": password})


def key_on(page: str) -> str | None:
    found = re.search(r'id="partner-key-value">([^<]+)<', page)
    return found.group(1) if found else None


def test_the_administrator_adds_edits_deactivates_and_rotates_a_partner(client, make):
    admin = make.user("admin")
    login(client, admin, make.PASSWORD)
    assert client.get("/admin/partners").status_code == 200
    r = client.post("/admin/partners", data={"code": "DVCQG", "name": "Cổng Dịch vụ công quốc gia",
                                              "channel_label": "Cổng DVC quốc gia", "province_code": "",
                                              "field_mapping": '{"maHoSo": "external_code"}'})
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    key = key_on(page)
    partner = db.session.scalar(sa.select(Partner).where(Partner.code == "DVCQG"))
    assert key and partner.key == key and partner.field_mapping == {"maHoSo": "external_code"}
    # shown once: neither the list nor the partner's page shows it again
    assert key not in client.get("/admin/partners").get_data(as_text=True)
    detail = client.get(f"/admin/partners/{partner.id}").get_data(as_text=True)
    assert key not in detail and "maHoSo" in detail
    # a mapping onto a field the dossier does not have is refused with the reason, nothing saved
    bad = client.post(f"/admin/partners/{partner.id}", data={"name": "X", "channel_label": "Y", "province_code": "",
                                                             "field_mapping": '{"a": "nominee.nope"}'})
    assert bad.status_code == 422 and "nominee.nope" in bad.get_data(as_text=True)
    assert client.post(f"/admin/partners/{partner.id}", data={"name": "X", "channel_label": "Y", "province_code": "",
                                                              "field_mapping": "[1,"}).status_code == 422
    db.session.refresh(partner)
    assert partner.name == "Cổng Dịch vụ công quốc gia"
    ok = client.post(f"/admin/partners/{partner.id}", data={"name": "Cổng DVC", "channel_label": "Cổng DVC quốc gia",
                                                            "province_code": "", "field_mapping": ""})
    assert ok.status_code == 302
    db.session.refresh(partner)
    assert partner.name == "Cổng DVC" and partner.field_mapping == {}
    client.post(f"/admin/partners/{partner.id}/status", data={"active": "0"})
    db.session.refresh(partner)
    assert not partner.active
    rotated = client.post(f"/admin/partners/{partner.id}/key")
    new_key = key_on(rotated.get_data(as_text=True))
    db.session.refresh(partner)
    assert new_key and new_key != key and partner.key == new_key
    # a duplicate code is refused on the form
    dup = client.post("/admin/partners", data={"code": "DVCQG", "name": "Khác", "channel_label": "Khác"})
    assert dup.status_code == 422 and key_on(dup.get_data(as_text=True)) is None
    audit = client.get("/admin/audit?area=partner").get_data(as_text=True)
    assert "Thêm hệ thống đối tác" in audit and "Đổi khóa của hệ thống đối tác" in audit


def test_only_the_administrator_manages_partners(client, make):
    officer = make.user("ministry_officer")
    login(client, officer, make.PASSWORD)
    assert client.get("/admin/partners").status_code == 403
    assert client.post("/admin/partners", data={"code": "X1", "name": "X", "channel_label": "X"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Partner)) == 0


def test_flask_partners_cli(runner, app):
    out = runner.invoke(args=["partners", "add", "--code", "MOTCUA-HNI", "--name", "Một cửa Hà Nội",
                              "--channel-label", "Một cửa Hà Nội", "--province", "HNI",
                              "--mapping", json.dumps({"soHoSo": "external_code"})])
    assert out.exit_code == 0, out.output
    key = out.output.rsplit(": ", 1)[1].strip()
    partner = service.by_code("MOTCUA-HNI")
    assert partner.key == key and partner.province_code == "HNI"
    assert "MOTCUA-HNI\tactive\tHNI" in runner.invoke(args=["partners", "list"]).output
    rotated = runner.invoke(args=["partners", "rotate-key", "MOTCUA-HNI"])
    assert rotated.exit_code == 0 and key not in rotated.output
    assert runner.invoke(args=["partners", "deactivate", "MOTCUA-HNI"]).exit_code == 0
    db.session.expire_all()
    assert not service.by_code("MOTCUA-HNI").active
    bad = runner.invoke(args=["partners", "mapping", "MOTCUA-HNI", '{"x": "no.such"}'])
    assert bad.exit_code == 1
    assert runner.invoke(args=["partners", "add", "--code", "bad code!", "--name", "x",
                               "--channel-label", "x"]).exit_code == 1
