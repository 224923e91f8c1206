"""Fifteen council members vote at the same moment on a 250-nominee session; close; tally.

    .venv/bin/python bench/ballot_bench.py [--members 15] [--nominees 250] [--workers 4]

A throwaway PostgreSQL cluster, the schema from the migrations, 250 dossiers accepted by the Hà Nội
secretariat (inserted in bulk), fifteen provincial council members.  Everything after that goes
over HTTP to gunicorn (several sync workers), as the secretariat and the members would do it with
the API: set up the council, plan the session with the 250 nominees, take attendance, open the
vote; then the fifteen ballots are sent at once from fifteen threads (released together by a
barrier), each by its member's own bearer token; then the secretariat closes the session and
reads the tally.

Every ballot is checked: each member's choices are known to the bench (yes, no or blank per
nominee, varied per member), so the expected yes / no / invalid count of every nominee is known,
and the tally must match it exactly.  Printed: the open, ballot and close times, ballots per
second, and the verdict.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import harness

TARGET_STEP_MS = 300  # issue 16: opening and closing a 250-nominee session, each


def choice(member: int, nominee: int) -> str | None:
    """Member ``member``'s vote on the ``nominee``-th dossier: every fourth nominee gets a unanimous
    yes (and passes); on the others mostly yes, some no, a few blank (and they fall short of 90 %)."""
    if nominee % 4 == 0:
        return "yes"
    r = (member * 7 + nominee * 3) % 10
    return "no" if r in (3, 8) else None if r == 5 else "yes"


def setup(app, members: int, nominees: int) -> dict:

    from artisan_awards.extensions import db
    from artisan_awards.models import Round
    from artisan_awards.services import accounts

    with app.app_context():
        owner = accounts.create_user("owner@bench.vn", harness.PASSWORD, "Người đề nghị", ("applicant",))
        officer = accounts.create_user("so.hanoi@bench.vn", harness.PASSWORD, "Sở Công Thương Hà Nội",
                                       ("province_officer",), "HNI")
        people = [accounts.create_user(f"hoidong{i}@bench.vn", harness.PASSWORD, f"Thành viên {i}",
                                       ("province_council_member",), "HNI") for i in range(members)]
        round_ = Round(number=6, name="Đợt 6", intake_opens="2026-01-01", intake_closes="2026-12-31")
        db.session.add(round_)
        db.session.commit()
        with db.engine.begin() as conn:
            rows = harness.bulk_nominations(conn, nominees, round_ids=[round_.id], owner_id=owner.id,
                                            provinces=["HNI"], states=["accepted"], with_keys=True)
        return {
            "round_id": round_.id,
            "officer": (officer.email, accounts.issue_token(officer)[0]),
            "members": [(p.email, accounts.issue_token(p)[0]) for p in people],
            "nomination_ids": [i for i, _c, _k in rows],
        }


def run(server_url: str, *, members: int = 15, nominees: int = 250, workers: int = 4) -> dict:
    from artisan_awards import create_app

    work = Path(tempfile.mkdtemp(prefix="aa-ballot-"))
    url = harness.fresh_database(server_url, "aa_bench_ballot")
    app = create_app(harness.app_config(url, work))
    data = setup(app, members, nominees)
    with app.app_context():
        from artisan_awards.extensions import db

        db.engine.dispose()
    ids = data["nomination_ids"]
    out = {"members": members, "nominees": nominees}
    with harness.Gunicorn(url, work, workers=workers) as server:
        out["server"] = server.settings
        api = server.base + "/api/v1"
        officer = {"Authorization": f"Bearer {data['officer'][1]}"}
        status, council = harness.post_json(api + "/councils", {
            "level": "province", "province_code": "HNI", "round_id": data["round_id"],
            "name": "Hội đồng cấp tỉnh Hà Nội", "decision_no": "12/QĐ-UBND",
            "members": [{"email": e, "position": "chair" if i == 0 else "member"}
                        for i, (e, _t) in enumerate(data["members"])]}, officer)
        assert status == 201, council
        status, session = harness.post_json(f"{api}/councils/{council['id']}/sessions",
                                            {"held_on": "2026-12-17", "nomination_ids": ids}, officer)
        assert status == 201, session
        sid = session["id"]
        status, body = harness.post_json(f"{api}/sessions/{sid}/attendance",
                                         {"present": [e for e, _t in data["members"]]}, officer)
        assert status == 200, body
        start = time.perf_counter()
        status, body = harness.post_json(f"{api}/sessions/{sid}/open", None, officer)
        out["open_s"] = time.perf_counter() - start
        assert status == 200, body

        barrier = threading.Barrier(members)
        answers: list = [None] * members
        ends: list = [0.0] * members

        def vote(m: int) -> None:
            token = data["members"][m][1]
            votes = {str(n): c for j, n in enumerate(ids) if (c := choice(m, j)) is not None}
            barrier.wait()
            answers[m] = harness.post_json(f"{api}/sessions/{sid}/ballot", {"votes": votes},
                                           {"Authorization": f"Bearer {token}"})
            ends[m] = time.perf_counter()

        threads = [threading.Thread(target=vote, args=(m,)) for m in range(members)]
        for t in threads:
            t.start()
        start = time.perf_counter()  # the barrier releases all fifteen together
        for t in threads:
            t.join(300)
        out["ballots_s"] = max(ends) - start
        out["ballot_statuses"] = sorted(s for s, _b in answers)

        start = time.perf_counter()
        status, tally = harness.post_json(f"{api}/sessions/{sid}/close", None, officer)
        out["close_s"] = time.perf_counter() - start
        assert status == 200, tally
        status, again = harness.get_json(f"{api}/sessions/{sid}/tally", officer)
        assert status == 200 and again == tally
        status, final = harness.get_json(f"{api}/sessions/{sid}", officer)
        out["ballots_cast"] = final["ballots_cast"]

    expected = {n: {"yes": 0, "no": 0, "invalid": 0} for n in ids}
    for m in range(members):
        for j, n in enumerate(ids):
            expected[n][choice(m, j) or "invalid"] += 1
    got = {row["nomination_id"]: {k: row[k] for k in ("yes", "no", "invalid")} for row in tally}
    out["votes_expected"] = members * nominees
    out["votes_counted"] = sum(sum(v.values()) for v in got.values())
    out["nominees_tallied"] = len(got)
    out["mismatches"] = [n for n in ids if got.get(n) != expected[n]]
    out["passed"] = sum(1 for row in tally if row["passed"])
    out["all_counted"] = (out["ballot_statuses"] == [201] * members and out["ballots_cast"] == members
                          and not out["mismatches"] and out["votes_counted"] == out["votes_expected"])
    return out


def report(out: dict) -> None:
    m, n = out["members"], out["nominees"]
    print(f"Council ballot - {m} members at once on {n} nominees, PostgreSQL, gunicorn {out['server']}, HTTP API")
    print(f"open the vote (agenda checked, {n} dossiers moved to review): {out['open_s'] * 1000:8.0f} ms")
    answers = {s: out["ballot_statuses"].count(s) for s in sorted(set(out["ballot_statuses"]))}
    print(f"{m} ballots sent together, all answered in:          {out['ballots_s'] * 1000:8.0f} ms "
          f"({m / out['ballots_s']:.1f} ballots/s; HTTP answers {answers})")
    print(f"close and tally ({n} nominees moved, {n} log rows):       {out['close_s'] * 1000:8.0f} ms")
    print(f"ballots recorded: {out['ballots_cast']} of {m}; votes counted: {out['votes_counted']} of "
          f"{out['votes_expected']} ({m} x {n}); nominees tallied: {out['nominees_tallied']}; "
          f"nominees whose yes/no/invalid differ from the ballots sent: {len(out['mismatches'])}; "
          f"passed: {out['passed']}")
    print(f"every ballot counted: {harness.verdict(out['all_counted'])}")
    # Issue 16: each step at most 300 ms with 250 nominees (absolute: measure on a quiet machine; under
    # load compare with a base tree in the same run instead, as bench/README.md does).
    for step in ("open", "close"):
        took = out[f"{step}_s"] * 1000
        print(f"{step} at most {TARGET_STEP_MS} ms: {took:.0f} ms {harness.verdict(took <= TARGET_STEP_MS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--nominees", type=int, default=250)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()
    with harness.postgres() as server_url:
        out = run(server_url, members=args.members, nominees=args.nominees, workers=args.workers)
    report(out)


if __name__ == "__main__":
    main()
