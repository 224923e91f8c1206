"""Issue 19, acceptance 1: the national portal files a dossier (twice), the province and the councils
process it to the President's decision, and the portal receives every status its mapping names, in
order, each signed and each exactly once, although it refused the first delivery attempts.

The portal is tests/portal_simulator.py: it signs its filings with the http-message-signatures
library and verifies each status message with standardwebhooks and the secret the administrator's
page gave (neither through the application's own helpers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.integration import delivery
from artisan_awards.integration import partners as partner_service
from artisan_awards.models import Delivery, Nomination
from artisan_awards.timeutil import now_utc, today
from tests.outbox_helpers import subscribe
from tests.portal_simulator import PortalSimulator
from tests.test_councils import Chain
from tests.test_intake import PHOTO, dossier
from workflows.states import Action, State

# The portal's own vocabulary: two internal review steps are not reported to it.
STATUS_MAP = {
    "submitted": "DA_TIEP_NHAN", "accepted": "DANG_XU_LY", "province_passed": "CAP_TINH_DAT",
    "ministry_passed": "CAP_BO_DAT", "public_consultation": "LAY_Y_KIEN", "state_passed": "CAP_NHA_NUOC_DAT",
    "final_consultation": "LAY_Y_KIEN_LAN_2", "submitted_to_pm": "TRINH_THU_TUONG",
    "submitted_to_president": "TRINH_CHU_TICH_NUOC", "awarded": "DA_CO_KET_QUA",
}
HISTORY = ["submitted", "accepted", "province_review", "province_passed", "ministry_review", "ministry_passed",
           "public_consultation", "state_review", "state_passed", "final_consultation", "submitted_to_pm",
           "submitted_to_president", "awarded"]


def _deliver_everything() -> None:
    """Run the worker until nothing is left, letting each back-off pass as if its time had come."""
    for _ in range(60):
        db.session.execute(sa.update(Delivery).where(Delivery.status == "pending")
                           .values(next_attempt_at=now_utc() - timedelta(seconds=1)))
        db.session.commit()
        done = delivery.deliver_due()
        if not done.claimed and not db.session.scalar(
                sa.select(sa.func.count()).select_from(Delivery).where(Delivery.status == "pending")):
            return
    raise AssertionError("deliveries still pending after 60 passes")


@pytest.mark.realdb  # the councils' close runs VACUUM on a connection of its own (PostgreSQL)
@pytest.mark.parametrize("refused", [0, 3])
def test_the_portal_files_twice_and_hears_every_mapped_status_once_in_order(app, api, make, client, refused):
    app.config.update(TODAY=None, INTEGRATION_MAX_ATTEMPTS=6, INTEGRATION_BACKOFF_SECONDS=60)
    admin = make.user("admin")
    partner, key = partner_service.create_partner(admin, "DVCQG", "Cổng Dịch vụ công quốc gia",
                                                  "Cổng Dịch vụ công quốc gia")
    with PortalSimulator(partner.code, key, target=client, refuse_first=refused) as portal:
        # The status subscriber stands for the intake partner: it hears of that partner's dossiers only.
        subscriber = subscribe(admin, portal.webhook_url, kind="partner", events=[], status_map=STATUS_MAP,
                               name="Cổng Dịch vụ công quốc gia (trạng thái)", partner_code=partner.code)
        portal.webhook_secret = subscriber.plain_secret
        chain = Chain(api, make)

        sent = dossier(make, external_code="G22.000.01.H26-261205-0042")
        first = portal.file(sent, [PHOTO])
        again = portal.file(sent, [PHOTO])
        assert first.status == 201 and again.status == 200, (first.body, again.body)
        assert again.body["code"] == first.body["code"]
        filed = db.session.scalars(sa.select(Nomination).where(Nomination.partner_id == partner.id)).all()
        assert len(filed) == 1  # one dossier, however often the portal sends it
        nomination = filed[0]
        _deliver_everything()  # the first status ("received") reaches the portal after its refusals

        # A dossier of the web channel goes the same way: the portal never hears of it.
        other = make.nomination(State.SUBMITTED, officer=chain.officer)
        chain.act(other, "accept", chain.officer)

        chain.act(nomination, "accept", chain.officer, comment="Hợp lệ")
        chain.vote("province", [nomination], yes_votes=11)
        chain.act(nomination, "forward_to_ministry", chain.officer)
        chain.vote("ministry", [nomination], yes_votes=10)
        chain.round.consultation_days = 0  # a rehearsal round: the window may be closed at once
        db.session.commit()
        chain.act(nomination, "open_consultation", chain.ministry)
        chain.act(nomination, "forward_to_state", chain.ministry)
        _deliver_everything()
        chain.vote("state", [nomination], yes_votes=11)
        chain.act(nomination, "open_consultation", chain.ministry)
        chain.act(nomination, "submit_to_pm", chain.ministry)
        chain.act(nomination, "submit_to_president", chain.government)
        chain.act(nomination, Action.RECORD_AWARD.value, chain.government, decision_no="1234/QĐ-CTN",
                  decision_date=today().isoformat())
        history = api.get(f"/api/v1/nominations/{nomination.id}", chain.ministry).get_json()["history"]
        assert [h["to"] for h in history] == HISTORY
        _deliver_everything()

        payloads = portal.payloads()
        assert not portal.rejected and not portal.out_of_order, (portal.rejected, portal.out_of_order)
        assert portal.duplicates == 0
        assert {p["type"] for p in payloads} == {"dossier.status"}
        data = [p["data"] for p in payloads]
        expected = [s for s in HISTORY if s in STATUS_MAP]
        assert [d["state"] for d in data] == expected
        assert [d["status_code"] for d in data] == [STATUS_MAP[s] for s in expected]
        assert [d["sequence"] for d in data] == list(range(1, len(expected) + 1))
        assert {(d["dossier_code"], d["external_code"]) for d in data} == {
            (nomination.code, "G22.000.01.H26-261205-0042")}
        assert len({r.webhook_id for r in portal.received}) == len(expected)  # each once
        assert portal.attempts == len(expected) + refused  # every refusal retried, nothing sent twice
        assert data[1]["processing_unit"]["code"] == "HNI" and data[-1]["processed_at"].endswith("Z")
