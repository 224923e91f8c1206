"""The province inbox's length, read from the kept counts (nomination_counts) instead of counted.

The counters must give exactly what counting the listed rows gives, for every filter the inbox
offers; filters the counters cannot answer (search, title, overdue, an officer's own drafts) are
counted as before.
"""

from types import SimpleNamespace

import pytest

from artisan_awards.services import queries
from tests.apps import module_world
from tests.factories import Factory
from tests.test_lists import count_queries as count_queries  # noqa: F401  (the fixture)
from tests.test_lists import listed_total
from workflows.states import State

URLS = ["/province/inbox", "/province/inbox?state=accepted", "/province/inbox?state=draft",
        "/province/inbox?stage=province", "/province/inbox?stage=intake", "/province/inbox?stage=stopped",
        "/province/inbox?stage=nonsense", "/province/inbox?state=nonsense", "/province/inbox?round_id={round}",
        "/province/inbox?round_id=999999&state=submitted", "/province/inbox?round_id=99999999999",
        "/province/inbox?q=Khác", "/province/inbox?title=people", "/province/inbox?page=2"]


def _build_inbox() -> SimpleNamespace:
    make = Factory()
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    for state, count in ((State.SUBMITTED, 3), (State.ACCEPTED, 2), (State.RETURNED, 1),
                         (State.WITHDRAWN, 1)):
        for i in range(count):
            make.nomination(state, owner=owner, officer=officer, nominee={"full_name": f"Hồ Sơ {state} {i}"})
    other = make.user("province_officer", "HCM")
    make.nomination(State.SUBMITTED, owner=owner, province="HCM", officer=other)  # another province
    make.nomination(State.DRAFT, owner=officer, nominee={"full_name": "Bản Nháp Khác"})  # the officer's own draft
    return SimpleNamespace(round_id=make.current_round().id, officer_email=officer.email)


# The inbox's dossiers built once for the module; each test gets a copy of that database.
inbox_world, app_config = module_world(_build_inbox, "inbox-world", fixture="inbox_world", asked_by=None)


@pytest.fixture
def inbox(client, auth, inbox_world):
    """The officer of Hà Nội signed in; the round of the dossiers."""
    response = auth.login(inbox_world.value.officer_email)
    assert response.status_code == 302
    return SimpleNamespace(id=inbox_world.value.round_id)


@pytest.mark.parametrize("url", URLS)
def test_the_kept_total_is_the_counted_total(client, inbox, monkeypatch, url):
    url = url.format(round=inbox.id)
    kept = client.get(url)
    assert kept.status_code == 200
    monkeypatch.setattr(queries, "kept_total", lambda *args: None)
    counted = client.get(url)
    assert listed_total(kept.get_data(as_text=True)) == listed_total(counted.get_data(as_text=True))


def test_the_inbox_reads_no_count_of_the_dossiers(client, inbox, count_queries):
    with count_queries() as statements:
        assert client.get("/province/inbox").status_code == 200
    assert not [s for s in statements if "count(" in s.lower() and "nominations" in s.lower()
                and "nomination_counts" not in s.lower()]
