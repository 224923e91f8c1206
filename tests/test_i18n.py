"""Vietnamese first, English complete: the catalogue and the language switch."""

from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "artisan_awards" / "translations"


def test_english_catalogue_translates_every_message():
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    english = read_po((TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb"))
    missing = [m.id for m in template if m.id and not (english.get(m.id) and english[m.id].string)]
    fuzzy = [m.id for m in english if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_pages_are_vietnamese_by_default_and_switch_to_english(client):
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    client.post("/lang/en", data={"next": "/login"})
    html = client.get("/login").get_data(as_text=True)
    assert "Sign in" in html and "Đăng nhập" not in html
    client.post("/lang/vi", data={"next": "/"})
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)


def test_switch_ignores_foreign_next(client):
    r = client.post("/lang/en", data={"next": "https://evil.example/"})
    assert r.headers["Location"] == "/"


def test_state_labels_follow_the_language(client, make, app):
    from artisan_awards.services import nominations as service
    from workflows.states import Action

    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    key = service.perform(nomination, Action.SUBMIT, owner)
    url = f"/api/v1/status?code={nomination.code}&key={key}"
    vi = client.get(url).get_json()
    en = client.get(url, headers={"Accept-Language": "en"}).get_json()
    assert vi["state_label"] == "Sở Công Thương đã nhận hồ sơ và đang kiểm tra"
    assert en["state_label"] != vi["state_label"] and en["state_label"].isascii()
