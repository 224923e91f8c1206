"""Simultaneous ballots and simultaneous transitions lose nothing and double nothing.

Each worker is a separate HTTP client with its own database connection, released
together by a barrier.  Run on PostgreSQL (row locks are what is being shown); on
SQLite the same tests run too, serialised by the database's single writer lock.
"""

import threading

from artisan_awards.extensions import db
from tests.test_councils import Chain
from workflows.states import State


def _run_together(app, calls):
    """Run each call(client) in its own thread, all released at once; return their responses."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            results[i] = call(client)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_fifteen_members_vote_at_the_same_moment(app, api, make):
    chain = Chain(api, make)
    nominations = [chain.accepted(nominee={"full_name": f"Nghệ nhân {i}"}) for i in range(3)]
    council, members, secretariat = chain.council("province", size=15)
    sid = chain.session(council, secretariat, [n.id for n in nominations])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    tokens = [api.token(m) for m in members]
    db.session.commit()

    # Plain values only inside the threads: an ORM object expired by the commit above would be
    # refreshed by thirty threads at once through one session, which SQLAlchemy does not allow.
    nomination_ids = [str(n.id) for n in nominations]

    def ballot(token, choice):
        return lambda client: client.post(
            f"/api/v1/sessions/{sid}/ballot", headers={"Authorization": f"Bearer {token}"},
            json={"votes": {nid: choice for nid in nomination_ids}}).status_code

    choices = ["yes"] * 14 + ["no"]
    # Each member sends their ballot twice at once: 15 must count, 15 must be refused.
    calls = [ballot(t, c) for t, c in zip(tokens, choices, strict=True)] * 2
    statuses = _run_together(app, calls)
    assert sorted(statuses) == [201] * 15 + [409] * 15
    tally = api.post(f"/api/v1/sessions/{sid}/close", secretariat).get_json()
    for row in tally:
        assert (row["yes"], row["no"], row["invalid"]) == (14, 1, 0)
        assert row["passed"] is True  # 14 >= ceil(0.9 x 15) = 14


def test_two_officers_fire_conflicting_transitions_at_once(app, api, make):
    officer_a = make.user("province_officer", "HNI")
    officer_b = make.user("province_officer", "HNI")
    for _ in range(5):
        nomination = make.nomination(State.SUBMITTED)
        tokens = [api.token(officer_a), api.token(officer_b)]
        db.session.commit()

        def act(token, action, nomination_id=nomination.id):
            return lambda client: client.post(
                f"/api/v1/nominations/{nomination_id}/actions/{action}",
                headers={"Authorization": f"Bearer {token}"},
                json={"comment": "Đồng thời"}).status_code

        statuses = _run_together(app, [act(tokens[0], "accept"), act(tokens[1], "return")])
        assert sorted(statuses) == [200, 409], statuses
        db.session.expire_all()
        from artisan_awards.services.queries import history

        rows = history(nomination)
        assert len(rows) == 2  # submit + exactly one of accept / return
        assert nomination.state == rows[-1].to_state
