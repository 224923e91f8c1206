"""A cheap key for a document's cached PDF, read before its data is built.

``engine.cache_key`` hashes the document's plain data, which means building it first: for a
250-nominee list that is 250 dossiers loaded through the ORM with their periods and products,
about a second on a loaded machine, only to find the PDF already made.  Here the same inputs are
read as they are stored -- every column of every row ``documents/data.py`` reads for that
document, with plain Core queries (no ORM objects) -- plus what else shapes the PDF (templates and
code, the PDF variant, the signing certificate, the public address, today's date), and hashed.

The key only finds the full key of a PDF made earlier (``service._produce``); any change to any of
those rows gives another key, so the slow path runs and the document is made or found anew.  A
stale PDF would need a change the key does not see: a new input to ``data.py`` must be added here
(``tests/test_document_freshness.py`` changes each kind of input and expects the change in the PDF).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from ..extensions import db
from ..models import (
    AgendaItem,
    Attachment,
    Attendance,
    BallotParticipation,
    ConflictDeclaration,
    Council,
    CouncilMember,
    CouncilSession,
    CraftPeriod,
    Nomination,
    NonVoter,
    Product,
    Province,
    Round,
    User,
)
from ..timeutil import today

PACKAGE = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Name, size and mtime of the application's Python files (fixed for the life of a process)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        st = path.stat()
        digest.update(f"{path.relative_to(PACKAGE)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


def _rows(stmt) -> list:
    return [tuple(row) for row in db.session.execute(stmt)]


class _Raw:
    """A table whose columns come back as the driver gives them (no date parsing on SQLite):
    only compared, never used, so the conversion would be wasted work on 1 000+ rows."""

    def __init__(self, table):
        self.c = table.c
        self.columns = [sa.type_coerce(column, sa.types.NullType()) for column in table.c]


def _all(raw: _Raw) -> sa.Select:
    return sa.select(*raw.columns)


def _table(model) -> _Raw:
    return _Raw(model.__table__)


# What ``data.agenda_item`` reads of a dossier on a list (it prints no career, address book or
# attachment): every column it reaches through ``nomination_data``, and the version (any ORM change).
AGENDA_COLUMNS = ("id", "version", "updated_at", "round_id", "province_code", "code", "title", "full_name",
                  "pen_name", "birth_date", "gender", "ethnicity", "posthumous", "craft", "address",
                  "learners_trained", "meritorious_decision_no", "meritorious_decision_date", "meritorious_field",
                  "consultation_ends", "state")


def _dossiers(ids_query, columns: tuple[str, ...] | None = None) -> list:
    """The dossiers (every column, or ``columns``) and every column of their periods and products."""
    n, p, pr = _table(Nomination), _table(CraftPeriod), _table(Product)
    table = Nomination.__table__
    chosen = _all(n) if columns is None else sa.select(
        *[sa.type_coerce(table.c[name], sa.types.NullType()) for name in columns])
    return [
        _rows(chosen.where(n.c.id.in_(ids_query)).order_by(n.c.id)),
        _rows(_all(p).where(p.c.nomination_id.in_(ids_query)).order_by(p.c.id)),
        _rows(_all(pr).where(pr.c.nomination_id.in_(ids_query)).order_by(pr.c.id)),
    ]


def _common() -> list:
    from . import engine

    config = current_app.config
    return [engine.ENGINE_VERSION, code_fingerprint(), engine.templates_fingerprint(), engine.variant(),
            config.get("PUBLIC_BASE_URL") or (request.host_url if has_request_context() else None),
            today().isoformat(),
            _rows(_all(_table(Province)).order_by(Province.__table__.c.code))]


def key(*parts) -> str:
    """SHA-256 over the parts' ``repr``: rows are tuples of plain values (str, int, dates, JSON dicts),
    whose repr is exact and stable, and made in C (no per-value callback as ``json.dumps`` needs)."""
    digest = hashlib.sha256()
    for part in (_common(), *parts):
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def nomination_key(nomination_id: int, kind: str, archival: bool) -> str:
    """The inputs of a dossier's own documents: its row, periods, products, attachments, round."""
    a, r = _table(Attachment), _table(Round)
    ids = sa.select(sa.literal(nomination_id))
    round_id = sa.select(_table(Nomination).c.round_id).where(_table(Nomination).c.id == nomination_id)
    return key("nomination", kind, archival, _dossiers(ids),
               _rows(_all(a).where(a.c.nomination_id == nomination_id).order_by(a.c.id)),
               _rows(_all(r).where(r.c.id.in_(round_id))))


def session_key(session: CouncilSession, kind: str, signer: str | None) -> str:
    """The inputs of a session's documents: the session, its council, members (and their names),
    attendance, non-voters, conflicts, ballots returned, the agenda and every dossier on it."""
    s, c, m, u = _table(CouncilSession), _table(Council), _table(CouncilMember), _table(User)
    at, nv, cd, ai = _table(Attendance), _table(NonVoter), _table(ConflictDeclaration), _table(AgendaItem)
    bp, r = BallotParticipation.__table__, _table(Round)
    council_id = sa.select(s.c.council_id).where(s.c.id == session.id)
    member_users = sa.select(m.c.user_id).where(m.c.council_id.in_(council_id))
    on_agenda = sa.select(ai.c.nomination_id).where(ai.c.session_id == session.id)
    return key(
        "session", kind, signer,
        _rows(_all(s).where(s.c.id == session.id)),
        _rows(_all(c).where(c.c.id.in_(council_id))),
        _rows(_all(r).where(r.c.id.in_(sa.select(c.c.round_id).where(c.c.id.in_(council_id))))),
        _rows(_all(m).where(m.c.council_id.in_(council_id)).order_by(m.c.id)),
        _rows(sa.select(u.c.id, u.c.full_name).where(u.c.id.in_(member_users)).order_by(u.c.id)),
        _rows(_all(at).where(at.c.session_id == session.id).order_by(at.c.id)),
        _rows(_all(nv).where(nv.c.session_id == session.id).order_by(nv.c.member_id)),
        _rows(_all(cd).where(cd.c.session_id == session.id).order_by(cd.c.id)),
        _rows(sa.select(sa.func.count()).select_from(bp).where(bp.c.session_id == session.id)),
        _rows(_all(ai).where(ai.c.session_id == session.id).order_by(ai.c.id)),
        _dossiers(on_agenda, AGENDA_COLUMNS),
    )


def consultation_key(round_id: int, window: str, states, signer: str | None) -> str:
    """The inputs of a round's consultation list: the round and every dossier in the window's states."""
    n, r = _table(Nomination), _table(Round)
    listed = sa.select(n.c.id).where(n.c.round_id == round_id, n.c.state.in_(states))
    return key("consultation", window, signer, _rows(_all(r).where(r.c.id == round_id)),
               _dossiers(listed, AGENDA_COLUMNS))
