"""A cheap key for a document's cached PDF, read before its data is built.

``engine.cache_key`` hashes the document's plain data, which means building it first: for a
250-nominee list that is 250 dossiers loaded through the ORM with their periods and products,
about a second on a loaded machine, only to find the PDF already made.  Here the same inputs are
read as they are stored -- every column of every row ``documents/data.py`` reads for that
document -- plus what else shapes the PDF (templates and code, the PDF variant, the signing
certificate, the public address, today's date), and hashed.

The stored rows are not fetched: ONE statement asks the database for each table's rows already
joined into one string (``string_agg`` on PostgreSQL, ``group_concat`` on SQLite; every value
written as its length, a colon and its text, so that the string decodes to exactly one content).
The key thus follows the content itself, not a version counter that a Core ``UPDATE`` or a child
row's change could leave behind, and a hit costs one round trip that returns a few strings
instead of some 1 600 rows for a 250-row list.

The key only finds the full key of a PDF made earlier (``service._produce``); any change to any of
those rows gives another key, so the slow path runs and the document is made or found anew.  A
stale PDF would need a change the key does not see: a new input to ``data.py`` must be added here
(``tests/test_document_freshness.py`` changes each kind of input and expects the change in the PDF,
and checks that a key leaving one input out is caught).
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
    SpecialCraftDecision,
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


def _param(name: str) -> sa.ColumnElement:
    """A named parameter left in the SQL text (``:name``), bound on each execution (see ``_statement``)."""
    return sa.literal_column(f":{name}")


def _cell(dialect: str, column) -> sa.ColumnElement:
    """One stored value as an SQL literal (``quote`` on SQLite, ``quote_nullable`` on PostgreSQL):
    text and dates between quotes with inner quotes doubled, numbers bare, ``NULL`` bare, so that
    cells joined by commas and rows by semicolons decode back to exactly one content (neither
    separator occurs outside quotes): two different contents never give the same string."""
    if dialect == "postgresql":
        return sa.func.quote_nullable(column, type_=sa.Text)
    return sa.func.quote(column, type_=sa.Text)


def _row(dialect: str, columns) -> sa.ColumnElement:
    comma = sa.literal_column("','")
    cells = [_cell(dialect, column) for column in columns]
    expr = cells[0]
    for cell in cells[1:]:
        expr = expr.concat(comma).concat(cell)
    return expr


def _contents(dialect: str, columns, *where, order_by) -> sa.ScalarSelect:
    """The stored contents of the rows ``where`` (``columns`` of each), as ONE string made by the
    database (string_agg / group_concat), ordered: one value to fetch instead of every row."""
    row = _row(dialect, columns)
    empty, semicolon = sa.literal_column("''"), sa.literal_column("';'")
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        return sa.select(sa.func.coalesce(sa.func.string_agg(row, aggregate_order_by(semicolon, *order_by)), empty)
                         ).where(*where).scalar_subquery()
    # SQLite aggregates the rows in the order the ordered subquery gives them.
    rows = sa.select(row.label("r")).where(*where).order_by(*order_by).subquery()
    return sa.select(sa.func.coalesce(sa.func.group_concat(rows.c.r, semicolon), empty)).scalar_subquery()


def _table_contents(dialect: str, model, *where, columns: tuple[str, ...] | None = None) -> sa.ScalarSelect:
    table = model.__table__
    chosen = list(table.c) if columns is None else [table.c[name] for name in columns]
    return _contents(dialect, chosen, *where, order_by=list(table.primary_key.columns))


# What ``data.agenda_item`` reads of a dossier on a list (it prints no career, address book or
# attachment): every column it reaches through ``nomination_data``, and the version (any ORM change).
AGENDA_COLUMNS = ("id", "version", "updated_at", "round_id", "province_code", "code", "title", "full_name",
                  "pen_name", "birth_date", "gender", "ethnicity", "posthumous", "craft", "address",
                  "learners_trained", "meritorious_decision_no", "meritorious_decision_date", "meritorious_field",
                  "consultation_ends", "state")


# What a list row reads of a dossier's periods (its years in the craft) and products (its awards).
AGENDA_PERIOD_COLUMNS = ("id", "nomination_id", "from_date", "to_date")
AGENDA_PRODUCT_COLUMNS = ("id", "nomination_id", "name", "award_rank", "award_level", "award_state_delegated")


def _dossiers(dialect: str, ids_query, listed: bool = False) -> list:
    """The dossiers and their periods and products: every column, or (``listed``) what a row of a
    list prints (``data.agenda_item``)."""
    return [
        _table_contents(dialect, Nomination, Nomination.__table__.c.id.in_(ids_query),
                        columns=AGENDA_COLUMNS if listed else None),
        _table_contents(dialect, CraftPeriod, CraftPeriod.__table__.c.nomination_id.in_(ids_query),
                        columns=AGENDA_PERIOD_COLUMNS if listed else None),
        _table_contents(dialect, Product, Product.__table__.c.nomination_id.in_(ids_query),
                        columns=AGENDA_PRODUCT_COLUMNS if listed else None),
    ]


def _nomination_contents(dialect: str) -> list:
    """A dossier's own documents: its row, periods, products, attachments, round."""
    n = Nomination.__table__
    nid = _param("nomination_id")
    round_id = sa.select(n.c.round_id).where(n.c.id == nid).scalar_subquery()
    return [
        *_dossiers(dialect, sa.select(sa.cast(nid, sa.Integer).label("id"))),
        _table_contents(dialect, Attachment, Attachment.__table__.c.nomination_id == nid),
        _table_contents(dialect, Round, Round.__table__.c.id == round_id),
    ]


def _session_contents(dialect: str) -> list:
    """A session's documents: the session, its council, round, members (and their names), attendance,
    non-voters, conflicts, special-craft decisions, ballots returned, the agenda and its dossiers."""
    s, c, m, u = CouncilSession.__table__, Council.__table__, CouncilMember.__table__, User.__table__
    ai, bp = AgendaItem.__table__, BallotParticipation.__table__
    sid = _param("session_id")
    council_id = sa.select(s.c.council_id).where(s.c.id == sid).scalar_subquery()
    round_id = sa.select(c.c.round_id).where(c.c.id == council_id).scalar_subquery()
    member_users = sa.select(m.c.user_id).where(m.c.council_id == council_id)
    on_agenda = sa.select(ai.c.nomination_id).where(ai.c.session_id == sid)
    return [
        _table_contents(dialect, CouncilSession, s.c.id == sid),
        _table_contents(dialect, Council, c.c.id == council_id),
        _table_contents(dialect, Round, Round.__table__.c.id == round_id),
        _table_contents(dialect, CouncilMember, m.c.council_id == council_id),
        _contents(dialect, [u.c.id, u.c.full_name], u.c.id.in_(member_users), order_by=[u.c.id]),
        _table_contents(dialect, Attendance, Attendance.__table__.c.session_id == sid),
        _table_contents(dialect, NonVoter, NonVoter.__table__.c.session_id == sid),
        _table_contents(dialect, ConflictDeclaration, ConflictDeclaration.__table__.c.session_id == sid),
        _table_contents(dialect, SpecialCraftDecision, SpecialCraftDecision.__table__.c.session_id == sid),
        sa.select(sa.cast(sa.func.count(), sa.Text)).select_from(bp).where(bp.c.session_id == sid)
        .scalar_subquery(),
        _table_contents(dialect, AgendaItem, ai.c.session_id == sid),
        *_dossiers(dialect, on_agenda, listed=True),
    ]


def _consultation_contents(dialect: str, states: tuple[str, ...]) -> list:
    """A round's consultation list: the round and every dossier in the window's states."""
    n = Nomination.__table__
    rid = _param("round_id")
    listed = sa.select(n.c.id).where(n.c.round_id == rid, n.c.state.in_([sa.literal_column(
        "'" + state.replace("'", "''") + "'") for state in states]))
    return [_table_contents(dialect, Round, Round.__table__.c.id == rid), *_dossiers(dialect, listed, listed=True)]


CONTENTS = {"nomination": _nomination_contents, "session": _session_contents,
            "consultation": _consultation_contents}


@lru_cache(maxsize=64)
def _statement(dialect, document: str, *args) -> sa.TextClause:
    """The one statement fetching every input of a kind of document (and the provinces), made and
    compiled once per process: on a cached download only its parameter changes, so SQLAlchemy neither
    rebuilds a few thousand expressions nor computes their cache key again (a hit would otherwise
    spend more time composing SQL than the database spends answering it)."""
    contents = [_table_contents(dialect.name, Province), *CONTENTS[document](dialect.name, *args)]
    stmt = sa.select(*[c.label(f"c{i}") for i, c in enumerate(contents)])
    return sa.text(str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))


def _common() -> list:
    from . import engine

    config = current_app.config
    return [engine.ENGINE_VERSION, code_fingerprint(), engine.templates_fingerprint(), engine.variant(),
            config.get("PUBLIC_BASE_URL") or (request.host_url if has_request_context() else None),
            today().isoformat()]


def key(document: str, parts: tuple, params: dict, *args) -> str:
    """SHA-256 over the fixed parts (``repr``) and the stored contents of the ``document``'s inputs,
    fetched in ONE statement (``_statement``)."""
    statement = _statement(db.session.get_bind().dialect, document, *args)
    row = db.session.execute(statement, params).one()
    digest = hashlib.sha256()
    for part in (_common(), document, *parts):
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    for value in row:
        text = "~" if value is None else str(value)
        digest.update(f"{len(text)}:".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def nomination_key(nomination_id: int, kind: str, archival: bool) -> str:
    """The inputs of a dossier's own documents: its row, periods, products, attachments, round."""
    return key("nomination", (kind, archival), {"nomination_id": int(nomination_id)})


def session_key(session_id: int, kind: str, signer: str | None) -> str:
    """The inputs of a session's documents (``_session_contents``)."""
    return key("session", (kind, signer), {"session_id": int(session_id)})


def consultation_key(round_id: int, window: str, states, signer: str | None) -> str:
    """The inputs of a round's consultation list: the round and every dossier in the window's states."""
    states = tuple(sorted(str(state) for state in states))
    return key("consultation", (window, signer), {"round_id": int(round_id)}, states)
