"""Programmes as data: a programme version is a definition file, validated at load, from which the one
``transitions`` machine of that version is built.

A definition (YAML, one file per version: ``workflows/programmes/<id>/<version>.yaml``) declares the
programme's id, version and effective date; its levels and the roles acting at each; its states and
transitions (actions, who may fire them, guards and deadlines by name); how each level decides (a secret
ballot with quorum and threshold, a scored rubric, an appraisal with an amount); its dossier form; its
eligibility rule sets (``workflows/rulesets``, by id) and its documents (by template id).  The format is
described field by field in docs/programmes.md.

Free of Flask and of the database.  ``load_definition`` reads and checks one file (a ``ProgrammeError``
names the file and every problem); ``Programme`` is a loaded version with its enums, its table of moves
and its machine; ``Registry`` holds every version found in some directories and answers "which version
is in effect on this day".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from transitions import Machine, MachineError

PROGRAMMES_DIR = Path(__file__).resolve().parent / "programmes"
ARTISAN_ID = "artisan-titles"

OWNER = "owner"  # the dossier's filer (the account that owns it)
COUNCIL = "council"  # the decision of a level (a council's tally, a scorers' result, an appraisal)

# The guards the engine computes for every dossier (``workflows.machine.Subject``); a definition names
# the ones its transitions need.  A new guard is code (a fact the application must compute).
KNOWN_GUARDS = frozenset({
    "intake_open",  # the round accepts dossiers today (the province's own deadline counted)
    "completion_open",  # a returned dossier is within its completion period
    "consultation_over",  # the public consultation window has ended
    "consultation_before_state",  # the round holds a consultation before the state council
    "consultation_after_state",  # ... and a second one after it
})
HELD_FROM = "held_from_"  # held_from_<state>: the dossier was held while in <state>

IDENT = r"^[a-z][a-z0-9_]{0,29}$"  # states and actions: stored in 30-character columns
SLUG = r"^[a-z][a-z0-9-]{0,39}$"
Ident = Annotated[str, Field(pattern=IDENT)]
Slug = Annotated[str, Field(pattern=SLUG)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class ProgrammeError(ValueError):
    """A definition file that cannot be used: every problem found, with the file it is in."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- the parts of a definition -----------------------------------------------------------------------


class StateDef(_Strict):
    id: Ident
    staff_label: Text  # what the secretariat and the councils read
    citizen_label: Text  # what the public status lookup shows
    next_step: Text  # what the filer should expect next
    final: bool = False  # no move leaves it (checked against the transitions)


class ActionDef(_Strict):
    id: Ident
    label: Text


class TransitionDef(_Strict):
    action: Ident
    sources: tuple[Ident, ...] = Field(alias="from", min_length=1)
    dest: Ident = Field(alias="to")
    by: str  # "owner", "council" or a role of ``roles``
    when: tuple[str, ...] = ()  # guards that must hold
    unless: tuple[str, ...] = ()  # guards that must not hold
    deadline: Ident | None = None  # the deadline (by name) within which the move is due
    forward: bool = True  # false: the move does not take a dossier further (withdrawal, hold, release)
    note: str | None = None  # a line for the reader of the definition; not used by the engine


class GuardDef(_Strict):
    id: str
    description: Text


class DeadlineDef(_Strict):
    id: Ident
    description: Text
    days: int = Field(ge=0, le=3650)
    counting: Literal["calendar", "working"] = "calendar"
    from_state: Ident | None = None  # the clock starts when the dossier enters this state


class BallotDecision(_Strict):
    """A secret ballot: quorum and pass mark as percentages of the council's members (rounded up)."""

    kind: Literal["ballot"]
    quorum_percent: int = Field(ge=1, le=100)
    pass_percent: int = Field(ge=1, le=100)
    opens: Ident | None = None  # event that puts the dossier to the vote (agenda → under review)
    passes: Ident
    rejects: Ident


class RubricCriterion(_Strict):
    id: Ident
    label: Text
    max_points: float = Field(gt=0)


class RubricGroup(_Strict):
    id: Ident
    label: Text
    weight: float = Field(default=1, gt=0)
    criteria: tuple[RubricCriterion, ...] = Field(min_length=1)


class RubricDecision(_Strict):
    """Scorers mark each criterion; a dossier's score is the scorers' mean of the weighted total."""

    kind: Literal["rubric"]
    groups: tuple[RubricGroup, ...] = Field(min_length=1)
    min_scorers: int = Field(default=1, ge=1)
    pass_mark: float = Field(ge=0)
    opens: Ident | None = None
    passes: Ident
    rejects: Ident

    @property
    def max_score(self) -> float:
        return sum(g.weight * sum(c.max_points for c in g.criteria) for g in self.groups)


class AppraisalDecision(_Strict):
    """An appraisal: an appraised amount (0 = not funded), at most the amount asked and ``max_amount``."""

    kind: Literal["appraisal"]
    currency: Literal["VND"] = "VND"
    max_amount: int | None = Field(default=None, gt=0)
    requested_field: Ident | None = None  # the dossier field holding the amount asked for
    max_score: int | None = Field(default=None, gt=0, le=1000)  # set: the appraisers' score (0..max) is an input
    opens: Ident | None = None
    passes: Ident
    rejects: Ident


Decision = Annotated[BallotDecision | RubricDecision | AppraisalDecision, Field(discriminator="kind")]


class LevelDef(_Strict):
    id: Ident
    name: Text
    officer: str  # the role of the level's secretariat
    council: str | None = None  # the role of the members who decide, if people other than the officer
    entry: Ident  # the state in which a dossier arrives at this level (its agenda)
    decision: Decision | None = None  # how this level decides; none for a level that only forwards
    # whose dossiers a council member of the level scores: every dossier his role may see ("all"), or the
    # dossiers of the provinces of the region his panel serves only ("region": one panel per region, the
    # application's map of provinces to regions)
    scope: Literal["all", "region"] = "all"


class FieldDef(_Strict):
    id: Ident
    label: Text
    type: Literal["text", "textarea", "integer", "money", "date", "choice", "boolean"] = "text"
    required: bool = False
    max_length: int = Field(default=500, ge=1, le=20000)
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


class DossierDef(_Strict):
    form: Slug | None = None  # a form the application defines (the artisan declaration), by id
    fields: tuple[FieldDef, ...] = ()  # or the programme's own fields
    name_field: Ident | None = None  # the field that names the dossier in lists
    evidence: tuple[Ident, ...] = ()  # kinds of evidence files the dossier takes


class ProgrammeDef(_Strict):
    id: Slug
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.-]{0,19}$")]
    effective_from: date
    title: Text
    roles: tuple[str, ...] = Field(min_length=1)  # the system's (workflows.machine.ROLES), checked at load
    initial: Ident
    guards: tuple[GuardDef, ...] = ()
    deadlines: tuple[DeadlineDef, ...] = ()
    levels: tuple[LevelDef, ...] = Field(min_length=1)
    states: tuple[StateDef, ...] = Field(min_length=2)
    actions: tuple[ActionDef, ...] = Field(min_length=1)  # taken by people
    events: tuple[ActionDef, ...] = ()  # fired by a level's decision, never by a person
    transitions: tuple[TransitionDef, ...] = Field(min_length=1)
    dossier: DossierDef
    eligibility: tuple[Slug, ...] = ()  # rule sets of workflows/rulesets, by id
    documents: tuple[Slug, ...] = ()  # document templates, by id

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> ProgrammeDef:
        problems = _check(self, (info.context or {}).get("roles"))
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _duplicates(ids: Iterable[str]) -> list[str]:
    seen, twice = set(), []
    for i in ids:
        if i in seen and i not in twice:
            twice.append(i)
        seen.add(i)
    return twice


def _check(d: ProgrammeDef, system_roles: Iterable[str] | None = None) -> list[str]:
    """Every reference resolves, nothing is declared twice, the machine is a proper one; with
    ``system_roles`` (``workflows.machine.ROLES``: a new role is a migration), the roles are among them."""
    p: list[str] = []
    states = {s.id for s in d.states}
    actions = {a.id for a in d.actions}
    events = {e.id for e in d.events}
    guards = {g.id for g in d.guards}
    deadlines = {x.id for x in d.deadlines}
    for what, ids in (("state", [s.id for s in d.states]), ("action", [a.id for a in d.actions]),
                      ("event", [e.id for e in d.events]), ("guard", [g.id for g in d.guards]),
                      ("deadline", [x.id for x in d.deadlines]), ("level", [lv.id for lv in d.levels]),
                      ("field", [f.id for f in d.dossier.fields]), ("role", list(d.roles))):
        p += [f"{what} '{i}' is declared twice" for i in _duplicates(ids)]
    p += [f"'{i}' is both an action and an event" for i in sorted(actions & events)]
    if system_roles is not None:
        system_roles = tuple(system_roles)
        p += [f"role '{r}' is not a role of the system ({', '.join(system_roles)})"
              for r in d.roles if r not in system_roles]
    for g in guards:
        if g not in KNOWN_GUARDS and not (g.startswith(HELD_FROM) and g.removeprefix(HELD_FROM) in states):
            p.append(f"guard '{g}' is not one the engine computes ({', '.join(sorted(KNOWN_GUARDS))}, "
                     f"{HELD_FROM}<state>)")
    if d.initial not in states:
        p.append(f"initial state '{d.initial}' is not declared")
    actors = set(d.roles) | {OWNER, COUNCIL}
    for n, t in enumerate(d.transitions, 1):
        at = f"transition {n} ({t.action})"
        p += [f"{at}: state '{s}' is not declared" for s in (*t.sources, t.dest) if s not in states]
        if t.by not in actors:
            p.append(f"{at}: '{t.by}' is neither owner, council nor a declared role")
        if t.by == COUNCIL and t.action not in events:
            p.append(f"{at}: a council move's trigger must be a declared event")
        if t.by != COUNCIL and t.action not in actions:
            p.append(f"{at}: action '{t.action}' is not declared")
        p += [f"{at}: guard '{g}' is not declared" for g in (*t.when, *t.unless) if g not in guards]
        if t.deadline and t.deadline not in deadlines:
            p.append(f"{at}: deadline '{t.deadline}' is not declared")
    by_trigger: dict[str, set[str]] = {}
    for t in d.transitions:
        by_trigger.setdefault(t.action, set()).add(t.by)
    p += [f"action '{a}' is fired by more than one actor ({', '.join(sorted(b))})"
          for a, b in by_trigger.items() if len(b) > 1]
    p += [f"action '{a}' has no transition" for a in sorted((actions | events) - set(by_trigger))]
    for x in d.deadlines:
        if x.from_state and x.from_state not in states:
            p.append(f"deadline '{x.id}': state '{x.from_state}' is not declared")
    for lv in d.levels:
        for role in filter(None, (lv.officer, lv.council)):
            if role not in d.roles:
                p.append(f"level '{lv.id}': role '{role}' is not declared")
        if lv.entry not in states:
            p.append(f"level '{lv.id}': entry state '{lv.entry}' is not declared")
        if lv.scope == "region" and not lv.council:
            p.append(f"level '{lv.id}': a level scoped by region needs the council role whose members score")
        if lv.decision is not None:
            for name in filter(None, (lv.decision.opens, lv.decision.passes, lv.decision.rejects)):
                if name not in events:
                    p.append(f"level '{lv.id}': decision event '{name}' is not declared")
            if isinstance(lv.decision, RubricDecision) and lv.decision.pass_mark > lv.decision.max_score:
                p.append(f"level '{lv.id}': pass mark above the rubric's maximum ({lv.decision.max_score:g})")
            if isinstance(lv.decision, AppraisalDecision) and lv.decision.requested_field and \
                    lv.decision.requested_field not in {f.id for f in d.dossier.fields}:
                p.append(f"level '{lv.id}': field '{lv.decision.requested_field}' is not a dossier field")
    fields = {f.id for f in d.dossier.fields}
    if d.dossier.form is None and not fields:
        p.append("dossier: neither a form nor fields")
    if d.dossier.name_field and d.dossier.name_field not in fields:
        p.append(f"dossier: name field '{d.dossier.name_field}' is not a field")
    for f in d.dossier.fields:
        if f.type == "choice" and not f.choices:
            p.append(f"field '{f.id}': a choice needs choices")
    if p or d.initial not in states:
        return p
    # the machine itself: every state reachable, final exactly when no move leaves it
    leaving = {s for t in d.transitions for s in t.sources}
    reached, todo = {d.initial}, [d.initial]
    while todo:
        here = todo.pop()
        for t in d.transitions:
            if here in t.sources and t.dest not in reached:
                reached.add(t.dest)
                todo.append(t.dest)
    p += [f"state '{s.id}' cannot be reached from '{d.initial}'" for s in d.states if s.id not in reached]
    for s in d.states:
        if s.final and s.id in leaving:
            p.append(f"state '{s.id}' is final but a transition leaves it")
        if not s.final and s.id not in leaving:
            p.append(f"state '{s.id}' has no way out: mark it final")
    return p


def newest_file(programme_id: str, directory: Path = PROGRAMMES_DIR) -> Path:
    """The definition file of a programme's latest version (by effective date) in ``directory``."""
    files = sorted(directory.joinpath(programme_id).glob("*.yaml"),
                   key=lambda f: load_definition(f).effective_from)
    if not files:
        raise FileNotFoundError(directory / programme_id)
    return files[-1]


def load_definition(path: Path | str, roles: Iterable[str] | None = None) -> ProgrammeDef:
    """Read and check one definition file; ``ProgrammeError`` lists every problem.  ``roles``: the
    system's roles, which the definition's must be among."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProgrammeError(str(path), [f"cannot be read: {exc}"]) from exc
    return parse_definition(raw, str(path), roles)


def parse_definition(raw: Any, source: str = "<definition>", roles: Iterable[str] | None = None) -> ProgrammeDef:
    if not isinstance(raw, Mapping):
        raise ProgrammeError(source, ["a definition is a mapping of fields"])
    try:
        return ProgrammeDef.model_validate(raw, context={"roles": roles})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"])
            if not where and err["type"] == "value_error":  # the cross-reference checks: one problem a line
                problems += str(err["ctx"]["error"]).splitlines()
            else:
                problems.append(f"{where}: {err['msg']}" if where else err["msg"])
        raise ProgrammeError(source, problems) from None


# -- a loaded version: its enums, its table, its machine ---------------------------------------------


@dataclass(frozen=True)
class Move:
    """One row of the table: ``trigger`` takes a dossier from ``sources`` to ``dest``."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    actor: str  # OWNER, COUNCIL or a role name
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


def _enum(name: str, ids: Iterable[str], module: str) -> type[StrEnum]:
    return StrEnum(name, [(i.upper(), i) for i in ids], module=module)


class TransitionNotAllowed(Exception):
    """The action cannot be taken from the dossier's current state."""

    def __init__(self, state: str, action: str, reason: str = "state"):
        super().__init__(f"{action!s} is not allowed from {state!s} ({reason})")
        self.state = state
        self.action = action
        self.reason = reason


class Programme:
    """One programme version: the definition, the enums named after it, its moves and its one machine."""

    def __init__(self, definition: ProgrammeDef, module: str = __name__):
        self.definition = definition
        self.id = definition.id
        self.version = definition.version
        self.State = _enum("State", (s.id for s in definition.states), module)
        self.Action = _enum("Action", (a.id for a in definition.actions), module)
        self.Event = _enum("CouncilEvent", (e.id for e in definition.events), module)
        self.moves: tuple[Move, ...] = tuple(
            Move(self.trigger(t.action), tuple(self.State(s) for s in t.sources), self.State(t.dest), t.by,
                 tuple(t.when), tuple(t.unless))
            for t in definition.transitions
        )
        self.machine = self._build_machine()

    def __repr__(self) -> str:
        return f"<Programme {self.id} {self.version}>"

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    def trigger(self, name: str) -> StrEnum:
        return self.Action(name) if name in self.Action._value2member_map_ else self.Event(name)

    def _build_machine(self) -> Machine:
        rows = [
            {
                "trigger": str(m.trigger),
                "source": list(m.sources),
                "dest": m.dest,
                "conditions": list(m.conditions),
                "unless": list(m.unless),
            }
            for m in self.moves
        ]
        return Machine(
            model=None,
            states=self.State,
            transitions=rows,
            initial=self.State(self.definition.initial),
            auto_transitions=False,
            ignore_invalid_triggers=False,
            model_attribute="state",
        )

    # -- reading the table

    def state_def(self, state: str) -> StateDef:
        return next(s for s in self.definition.states if s.id == str(state))

    def label(self, action: str) -> str:
        return next(a.label for a in (*self.definition.actions, *self.definition.events) if a.id == str(action))

    def level(self, level_id: str) -> LevelDef:
        for lv in self.definition.levels:
            if lv.id == level_id:
                return lv
        raise KeyError(level_id)

    def moves_for(self, action: str) -> list[Move]:
        return [m for m in self.moves if str(m.trigger) == str(action)]

    def actions_from(self, state: str) -> list[str]:
        """Triggers that have a move out of ``state``, guards not considered."""
        return sorted({str(m.trigger) for m in self.moves if state in m.sources})

    def actor_for(self, action: str) -> str:
        """Who may take ``action``: OWNER, COUNCIL or a role.  One actor per action (checked at load)."""
        actors = {m.actor for m in self.moves_for(action)}
        if len(actors) != 1:
            raise KeyError(action)
        return actors.pop()

    def is_final(self, state: str) -> bool:
        return not self.actions_from(state)

    # -- moving a subject

    def fire(self, subject: Any, action: str) -> StrEnum:
        """Move ``subject`` by ``action``; return the new state or raise ``TransitionNotAllowed``."""
        event = self.machine.events.get(str(action))
        if event is None:
            raise TransitionNotAllowed(subject.state, action, "unknown_action")
        before = subject.state
        try:
            moved = event.trigger(subject)
        except MachineError as exc:
            raise TransitionNotAllowed(before, action, "state") from exc
        if not moved:
            raise TransitionNotAllowed(before, action, "guard")
        return self.State(subject.state)

    def can_fire(self, subject: Any, action: str) -> bool:
        try:
            self.fire(replace(subject), action)
        except TransitionNotAllowed:
            return False
        return True

    # -- stages: how far a dossier has come (the intake, then each level in order)

    @cached_property
    def sideways(self) -> frozenset[str]:
        """Triggers none of whose moves takes a dossier forward (``forward: false``)."""
        forward = {t.action for t in self.definition.transitions if t.forward}
        return frozenset(t.action for t in self.definition.transitions) - forward

    def forward_from(self, start: str) -> frozenset[str]:
        """The states a dossier can reach from ``start`` by forward moves."""
        ahead = [m for m, t in zip(self.moves, self.definition.transitions, strict=True) if t.forward]
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for m in ahead:
                if here in m.sources and m.dest not in seen:
                    seen.add(m.dest)
                    todo.append(m.dest)
        return frozenset(seen)

    @cached_property
    def stage_entries(self) -> tuple[str, ...]:
        """Entry state of each stage: 1 the intake (where the first forward move from the initial state
        leads), then each level in order."""
        first = next(m.dest for m, t in zip(self.moves, self.definition.transitions, strict=True)
                     if t.forward and self.definition.initial in m.sources)
        return (first, *(lv.entry for lv in self.definition.levels))

    @cached_property
    def stage_of(self) -> dict[str, int]:
        reach = [self.forward_from(e) for e in self.stage_entries]
        return {s: max((n for n, states in enumerate(reach, 1) if s in states), default=0) for s in self.State}

    def advance(self, reached: int | None, state: str) -> int:
        """The highest stage reached once a dossier at ``reached`` enters ``state``."""
        return max(reached or 0, self.stage_of[str(state)])


# -- which version is in effect ----------------------------------------------------------------------


class Registry:
    """Every programme version found in some directories (``<dir>/<programme id>/<version>.yaml``)."""

    def __init__(self, directories: Iterable[Path | str] = (PROGRAMMES_DIR,), known: Iterable[Programme] = (),
                 roles: Iterable[str] | None = None):
        """``known``: versions already loaded (the artisan titles of ``workflows.states``), used as they are
        rather than loaded a second time, so that their enums are the application's.  ``roles``: the
        system's roles (every definition's must be among them)."""
        self.roles = tuple(roles) if roles is not None else None
        self._programmes: dict[tuple[str, str], Programme] = {p.key: p for p in known}
        self.directories: list[Path] = []
        for d in directories:
            self.add_directory(d)

    def add_directory(self, directory: Path | str) -> None:
        directory = Path(directory).resolve()
        if directory in self.directories:
            return
        found = []
        for path in sorted(directory.glob("*/*.yaml")):
            definition = load_definition(path, self.roles)
            known = self._programmes.get((definition.id, definition.version))
            prog = known if known is not None and known.definition == definition else Programme(definition)
            if (path.parent.name, path.stem) != prog.key:
                raise ProgrammeError(str(path), [f"defines {prog.id} {prog.version}: the file must be "
                                                 f"{prog.id}/{prog.version}.yaml"])
            found.append(prog)
        for prog in found:
            old = self._programmes.get(prog.key)
            if old is not None and old is not prog:
                raise ProgrammeError(str(directory), [f"{prog.id} {prog.version} is defined twice"])
        dates: dict[tuple[str, date], str] = {}
        for prog in {id(p): p for p in (*self._programmes.values(), *found)}.values():
            when = (prog.id, prog.definition.effective_from)
            if dates.setdefault(when, prog.version) != prog.version:
                raise ProgrammeError(str(directory), [f"two versions of {prog.id} take effect on {when[1]}"])
        for prog in found:
            self._programmes[prog.key] = prog
        self.directories.append(directory)

    def ids(self) -> list[str]:
        return sorted({k[0] for k in self._programmes})

    def snapshot(self) -> tuple[dict, list]:
        """What the registry holds now, for ``restore``: the tests add folders of test programmes and take
        them away again, so that one module's test programme is not on the next module's pages."""
        return dict(self._programmes), list(self.directories)

    def restore(self, snapshot: tuple[dict, list]) -> None:
        programmes, directories = snapshot
        self._programmes = dict(programmes)
        self.directories = list(directories)

    def versions(self, programme_id: str) -> list[Programme]:
        return sorted((p for p in self._programmes.values() if p.id == programme_id),
                      key=lambda p: p.definition.effective_from)

    def get(self, programme_id: str, version: str) -> Programme:
        try:
            return self._programmes[(programme_id, version)]
        except KeyError:
            raise KeyError(f"{programme_id} {version}") from None

    def effective(self, programme_id: str, on: date) -> Programme:
        """The version in effect on ``on``: the latest whose effective date is not after it."""
        candidates = [p for p in self.versions(programme_id) if p.definition.effective_from <= on]
        if not candidates:
            raise KeyError(f"{programme_id} on {on}")
        return candidates[-1]


# -- deciding at a level: pure arithmetic, the application records the result ------------------------


def ceil_percent(percent: int, of: int) -> int:
    """``percent`` % of ``of``, rounded up (as the councils count: 90 % of 7 members is 7)."""
    return -(-percent * of // 100)


@dataclass(frozen=True)
class Outcome:
    passed: bool
    event: str
    meta: dict


class DecisionInputError(ValueError):
    """Inputs a decision cannot use; ``field`` names the input, the message is Vietnamese (``N_``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def N_(text: str) -> str:  # noqa: N802 - gettext marker (the application translates)
    return text


def _int(inputs: Mapping[str, Any], name: str, low: int = 0) -> int:
    value = inputs.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise DecisionInputError(name, N_("Cần nhập một số nguyên.")) from None
    if value < low:
        raise DecisionInputError(name, N_("Số không được nhỏ hơn mức tối thiểu."))
    return value


def decide(decision: BallotDecision | RubricDecision | AppraisalDecision, inputs: Mapping[str, Any]) -> Outcome:
    """The outcome of one level's decision from its inputs.

    ballot: ``members``, ``present``, ``yes`` (the tally); passes when the quorum was present and the
    yes votes reach ``pass_percent`` of the members.  rubric: ``scores``, one mapping criterion id →
    points per scorer; passes when the mean weighted total reaches ``pass_mark``.  appraisal:
    ``amount`` (appraised, VND; 0 = not funded), optional ``requested``, and ``score`` (0 to
    ``max_score``) when the decision declares ``max_score``; passes when the amount is positive.
    """
    if isinstance(decision, BallotDecision):
        members = _int(inputs, "members", 1)
        present = _int(inputs, "present")
        yes = _int(inputs, "yes")
        if present > members:
            raise DecisionInputError("present", N_("Số thành viên có mặt vượt quá số thành viên Hội đồng."))
        if yes > present:
            raise DecisionInputError("yes", N_("Số phiếu đồng ý vượt quá số thành viên có mặt."))
        quorum = ceil_percent(decision.quorum_percent, members)
        threshold = ceil_percent(decision.pass_percent, members)
        passed = present >= quorum and yes >= threshold
        meta = {"members": members, "present": present, "yes": yes, "quorum": quorum, "threshold": threshold}
    elif isinstance(decision, RubricDecision):
        sheets = inputs.get("scores")
        if not isinstance(sheets, list | tuple) or len(sheets) < decision.min_scorers:
            raise DecisionInputError("scores", N_("Chưa đủ số người chấm theo quy định."))
        limits = {c.id: (g.weight, c.max_points) for g in decision.groups for c in g.criteria}
        totals = []
        for sheet in sheets:
            if not isinstance(sheet, Mapping) or set(sheet) != set(limits):
                raise DecisionInputError("scores", N_("Phiếu chấm phải có điểm cho đúng các tiêu chí."))
            total = 0.0
            for cid, (weight, most) in limits.items():
                points = sheet[cid]
                if isinstance(points, bool) or not isinstance(points, int | float) or math.isnan(points) \
                        or not 0 <= points <= most:
                    raise DecisionInputError("scores", N_("Điểm của một tiêu chí nằm ngoài thang điểm."))
                total += weight * points
            totals.append(total)
        score = round(sum(totals) / len(totals), 2)
        passed = score >= decision.pass_mark
        meta = {"scorers": len(totals), "score": score, "pass_mark": decision.pass_mark}
    else:
        amount = _int(inputs, "amount")
        requested = inputs.get("requested")
        if requested is not None:
            requested = _int(inputs, "requested")
            if amount > requested:
                raise DecisionInputError("amount", N_("Số tiền thẩm định không được vượt quá số tiền đề nghị."))
        if decision.max_amount is not None and amount > decision.max_amount:
            raise DecisionInputError("amount", N_("Số tiền thẩm định vượt mức tối đa của chương trình."))
        passed = amount > 0
        meta = {"amount": amount, "currency": decision.currency}
        if decision.max_score is not None:
            score = inputs.get("score")
            if isinstance(score, str):
                score = score.strip().replace(",", ".")
            try:
                if isinstance(score, bool):
                    raise TypeError
                score = float(score)
            except (TypeError, ValueError):
                raise DecisionInputError("score", N_("Cần nhập điểm thẩm định.")) from None
            if math.isnan(score) or not 0 <= score <= decision.max_score:
                raise DecisionInputError("score", N_("Điểm thẩm định nằm ngoài thang điểm."))
            meta["score"] = round(score, 2)
            meta["max_score"] = decision.max_score
        if requested is not None:
            meta["requested"] = requested
    return Outcome(passed, decision.passes if passed else decision.rejects, meta)


# -- the programme's own dossier fields ----------------------------------------------------------------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def clean_form(dossier: DossierDef, values: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    """The values of a programme's own fields, checked: (clean values, field → Vietnamese message)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    known = {f.id for f in dossier.fields}
    for name in values:
        if name not in known:
            errors[str(name)[:40]] = N_("Trường này không có trong mẫu hồ sơ của chương trình.")
    for f in dossier.fields:
        value = values.get(f.id)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if f.required:
                errors[f.id] = N_("Cần điền thông tin này.")
            continue
        if f.type in ("text", "textarea", "choice"):
            if not isinstance(value, str):
                errors[f.id] = N_("Cần nhập chữ.")
            elif len(value) > f.max_length:
                errors[f.id] = N_("Nội dung quá dài.")
            elif f.type == "choice" and value not in f.choices:
                errors[f.id] = N_("Giá trị không có trong danh sách lựa chọn.")
            else:
                clean[f.id] = value
        elif f.type in ("integer", "money"):
            if isinstance(value, bool):
                errors[f.id] = N_("Cần nhập một số nguyên.")
                continue
            try:
                number = int(value) if isinstance(value, int) else int(str(value).replace(".", "").strip())
            except ValueError:
                errors[f.id] = N_("Cần nhập một số nguyên.")
                continue
            low = f.minimum if f.minimum is not None else 0
            if number < low or (f.maximum is not None and number > f.maximum):
                errors[f.id] = N_("Số nằm ngoài giới hạn cho phép.")
            else:
                clean[f.id] = number
        elif f.type == "date":
            try:
                if not isinstance(value, str | date) or (isinstance(value, str) and not _DATE.match(value)):
                    raise ValueError
                clean[f.id] = (value if isinstance(value, date) else date.fromisoformat(value)).isoformat()
            except ValueError:
                errors[f.id] = N_("Ngày không hợp lệ (định dạng YYYY-MM-DD).")
        elif f.type == "boolean":
            if not isinstance(value, bool):
                errors[f.id] = N_("Cần chọn có hoặc không.")
            else:
                clean[f.id] = value
    return clean, errors

