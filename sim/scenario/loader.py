"""Scenario files: load, validate, name every number, and apply overrides.

A scenario is a TOML file (see `scenarios/baseline.toml`). Every number in it has a dotted
name (``actors.russia.salience.ukraine``) through which the CLI's ``--set``, the Python API and
sweeps address it. Loading checks every field and raises `SimInputError` naming the file, the
field, what was found and what is allowed.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.scenario import calendar, sections, shipped
from sim.scenario.checker import Checker
from sim.scenario.files import read_toml
from sim.scenario.limits import MAX_EVENTS
from sim.scenario.sections import Deal, OutcomeSpec, Regime

RELATION_WEIGHTS = ("alignment", "reciprocity", "trust", "autonomy")

# The shipped baseline (the default scenario of the commands that take one), found in a source
# checkout and in an installed wheel alike.
BASELINE = shipped.path("scenarios", "baseline.toml")
# The smallest temperature of a choice: below it utilities / temperature leave the floats.
MIN_TEMPERATURE = 1e-6
DYNAMICS = ("rate", "overlap", "balance", "action", "trust", "evidence", "atmosphere")


@dataclass(frozen=True)
class Issue:
    """An issue on which actors hold positions: its label and how much is at stake."""

    id: str
    label: str
    stake: float
    persistence: float


@dataclass(frozen=True)
class Action:
    """A monthly choice open to one actor, described by its effects."""

    id: str
    label: str
    stance: Mapping[str, float]
    issues: Mapping[str, float]
    stakes: Mapping[str, float]
    bias: float = 0.0  # a standing policy commitment added to the action's utility
    available: bool = True  # whether the action can be chosen (a regime may change it)
    offers: str | None = None  # a deal this action puts on the table (e.g. a US offer)


@dataclass(frozen=True)
class Actor:
    """A state or bloc: capability, preference weights and the actions open to it."""

    id: str
    label: str
    capability: float
    temperature: float
    memory: float
    position: Mapping[str, float]
    salience: Mapping[str, float]
    weights: Mapping[str, float]
    actions: tuple[Action, ...]
    inertia: float = 0.0  # utility cost of changing policy (status-quo bias)
    policy: str | None = None  # the policy held when the scenario starts


@dataclass(frozen=True)
class Event:
    """A scheduled (``month``) or random (monthly ``hazard``) shock to alignment or stakes."""

    id: str
    label: str
    month: int | None
    hazard: float
    start: int
    end: int | None
    alignment: Mapping[tuple[str, str], float]
    stakes: Mapping[str, float]
    offers: str | None = None  # a deal this event puts on the table


@dataclass(frozen=True)
class Scenario:
    """A fully validated scenario: plain data, nothing computed yet.

    ``raw`` keeps the validated TOML document so that overrides and the results metadata can
    reproduce the scenario exactly.
    """

    name: str
    title: str
    description: str
    months: int
    start: str
    issues: tuple[Issue, ...]
    actors: tuple[Actor, ...]
    alignment: Mapping[tuple[str, str], float]
    trust: Mapping[tuple[str, str], tuple[float, float]]
    dynamics: Mapping[str, float]
    events: tuple[Event, ...]
    deals: tuple[Deal, ...]
    regimes: tuple[Regime, ...]
    outcomes: tuple[OutcomeSpec, ...]
    raw: Mapping[str, Any]
    source: str

    def outcome(self, kind: str) -> OutcomeSpec | None:
        """The first declared outcome of ``kind`` (partnership, defection, balance), or None."""
        return next((o for o in self.outcomes if o.kind == kind), None)

    def date(self, month: int) -> str:
        """The calendar month ("YYYY-MM") of simulated month ``month`` (1 = start)."""
        return calendar.date_of(month, self.start)

    @property
    def actor_ids(self) -> tuple[str, ...]:
        """Actor ids in file order (the order of every actor axis)."""
        return tuple(a.id for a in self.actors)

    @property
    def issue_ids(self) -> tuple[str, ...]:
        """Issue ids in file order (the order of every issue axis)."""
        return tuple(i.id for i in self.issues)

    def actor(self, actor_id: str) -> Actor:
        """The actor with this id."""
        return self.actors[self.actor_ids.index(actor_id)]

    def label(self, actor_id: str) -> str:
        """The display label of an actor."""
        return self.actor(actor_id).label

    def parameters(self) -> dict[str, float]:
        """Every number of the scenario by dotted name."""
        return dict(iter_numbers(self.raw))

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A new scenario with named numbers replaced (unknown names are an error)."""
        if not overrides:
            return self
        return from_dict(apply_overrides(self.raw, overrides, self.source), self.source)


# --------------------------------------------------------------------------------------------
# Loading


def as_scenario(
    scenario: str | Path | Scenario, overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Accept a path or a `Scenario`, applying named overrides."""
    if isinstance(scenario, Scenario):
        return scenario.with_overrides(overrides or {})
    return load(scenario, overrides)


def shipped_name(path: str | Path) -> Path:
    """A shipped scenario named without its folder (``"betrayal_in_syria"`` or
    ``"betrayal_in_syria.toml"``), so programs outside the checkout can name every scenario
    the tool ships; any other path is returned as it is.
    """
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    candidate = shipped.path("scenarios", path.name if path.suffix == ".toml" else f"{path}.toml")
    return candidate if candidate.is_file() else path


def similar(name: str, known: Any) -> list[str]:
    """Up to three known dotted names close to a mistyped one, for "did you mean"."""
    import difflib

    known = list(known)
    same_leaf = [k for k in known if k.split(".")[-1] == name.split(".")[-1]][:3]
    return same_leaf or difflib.get_close_matches(name, known, n=3, cutoff=0.75)


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file, optionally overriding named numbers. A bare name
    (``"betrayal_in_syria"``) that is not a file here names a shipped scenario.
    """
    path = shipped_name(path)
    raw = resolve_extends(read_toml(path), path)
    if overrides:
        raw = apply_overrides(raw, overrides, str(path))
    return from_dict(raw, str(path))


def resolve_extends(doc: dict[str, Any], path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Merge a scenario over the one it names in ``scenario.extends`` (a path relative to it).

    A variant scenario lists only what differs from its base; tables merge key by key, and the
    result is an ordinary complete scenario (the resolved form is what results record). The
    base must be a scenario file read by the one bounded reader (`sim.scenario.files`); every
    problem with it is reported against this file's ``scenario.extends``, and never quotes the
    base's content: the name may point anywhere, so the base is not trusted to be a scenario.
    """
    meta = doc.get("scenario")
    if not isinstance(meta, Mapping) or "extends" not in meta:
        return doc
    base_name = meta["extends"]

    def refuse(message: str, allowed: str | None = None) -> SimInputError:
        return SimInputError(
            message, file=str(path), field="scenario.extends", found=base_name, allowed=allowed
        )

    if not isinstance(base_name, str):
        raise refuse("expected a file name")
    base_path = (path.parent / base_name).resolve()
    if base_path in seen or base_path == path.resolve():
        raise refuse("scenarios extend each other in a loop")
    try:
        base = read_toml(base_path)
    except SimInputError as exc:
        # exc.detail says what is wrong with the file (its kind, size, syntax), not what is in it
        raise refuse(f"base scenario: {exc.detail}", exc.allowed) from None
    if not isinstance(base.get("scenario"), Mapping) or not set(base) <= set(TOP_KEYS):
        raise refuse("the base is not a scenario file (its tables are not a scenario's)")
    base = resolve_extends(base, base_path, (*seen, path.resolve()))
    merged = _merge(base, doc)
    del merged["scenario"]["extends"]
    return merged


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def iter_numbers(doc: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """Yield (dotted name, value) for every number in a nested document."""
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from iter_numbers(value, name + ".")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield name, value


def apply_overrides(
    raw: Mapping[str, Any], overrides: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """Return a copy of ``raw`` with each dotted name set to its new number."""
    doc = copy.deepcopy(dict(raw))
    known = dict(iter_numbers(doc))
    for name, value in overrides.items():
        if name not in known:
            close = similar(name, known)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SimInputError(
                f"unknown parameter{hint}",
                file=source,
                field=name,
                allowed="a dotted name listed by `sim run SCENARIO --list-parameters`",
            )
        number = _as_number(value, source, name)
        if isinstance(known[name], int) and not isinstance(known[name], bool):
            if float(number).is_integer():
                number = int(number)
        node = doc
        *parents, leaf = name.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = number
    return doc


# A number as users type one: optional sign, digits with an optional point, optional exponent.
# Stricter than float(), which also takes "0_5" (as 5), "nan", "inf" and surrounding spaces.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _as_number(value: Any, source: str, name: str) -> float:
    if isinstance(value, str):
        if not NUMBER.fullmatch(value):
            raise SimInputError(
                "not a number",
                file=source,
                field=name,
                found=value,
                allowed="a decimal number such as 0.5, -2 or 1e-3",
            )
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimInputError("not a number", file=source, field=name, found=value)
    if not math.isfinite(value):
        raise SimInputError("not a finite number", file=source, field=name, found=value)
    return value


# --------------------------------------------------------------------------------------------
# Validation


TOP_KEYS = (
    "scenario",
    "issues",
    "actors",
    "alignment",
    "trust",
    "dynamics",
    "deals",
    "outcomes",
    "events",
    "regimes",
)


def from_dict(raw: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a parsed scenario document and build the `Scenario`.

    Dates of events and regimes become month numbers (``month``), so the resolved document
    names every month as a number that overrides and sweeps can address.
    """
    raw = copy.deepcopy(dict(raw))
    c = Checker(source)
    c.keys(raw, "", TOP_KEYS)
    meta = c.table(raw, "", "scenario")
    c.keys(meta, "scenario", ("name", "title", "description", "months", "start"))
    name = c.plain_name(meta, "scenario", "name")
    months = c.number(meta, "scenario", "months", 1, 10_000, integer=True)
    start = c.text(meta, "scenario", "start")
    try:
        calendar.parse(start)
    except ValueError:
        c.fail("scenario.start", "not a month", found=start, allowed=calendar.FORMAT)
    sections.dates_to_months(raw, start)

    issues_doc = c.ids(c.table(raw, "", "issues"), "issues")
    if not issues_doc:
        c.fail("issues", "at least one issue is required")
    issues = []
    for iid, doc in issues_doc.items():
        f = f"issues.{iid}"
        if not isinstance(doc, Mapping):
            c.fail(f, "expected a table", found=doc)
        c.keys(doc, f, ("label", "description", "stake", "persistence"))
        issues.append(
            Issue(
                id=iid,
                label=c.text(doc, f, "label", default=iid),
                stake=c.number(doc, f, "stake", 0, 100),
                persistence=c.number(doc, f, "persistence", 0, 1, hi_open=True),
            )
        )
    issue_ids = tuple(i.id for i in issues)

    actors_doc = c.ids(c.table(raw, "", "actors"), "actors")
    if len(actors_doc) < 2:
        c.fail("actors", "at least two actors are required", found=len(actors_doc))
    actor_ids = tuple(actors_doc)
    actors = [_actor(c, aid, doc, actor_ids, issue_ids) for aid, doc in actors_doc.items()]
    action_ids = {a.id: tuple(x.id for x in a.actions) for a in actors}

    alignment = _pairs(c, c.table(raw, "", "alignment"), actor_ids)
    trust = _trust(c, c.table(raw, "", "trust"), actor_ids)

    dyn_doc = c.table(raw, "", "dynamics")
    c.keys(dyn_doc, "dynamics", DYNAMICS)
    dynamics = {
        "rate": c.number(dyn_doc, "dynamics", "rate", 0, 1, lo_open=True),
        "atmosphere": c.number(dyn_doc, "dynamics", "atmosphere", 0, 1, hi_open=True),
        **{k: c.number(dyn_doc, "dynamics", k, 0, 100) for k in DYNAMICS[1:-1]},
    }

    deals = sections.deals(c, c.ids(c.table(raw, "", "deals", required=False), "deals"), action_ids)
    deal_ids = tuple(d.id for d in deals)
    for actor in actors:
        for act in actor.actions:
            if act.offers is not None and act.offers not in deal_ids:
                c.fail(
                    f"actors.{actor.id}.actions.{act.id}.offers",
                    "unknown deal",
                    found=act.offers,
                    allowed=", ".join(deal_ids) or "a deal declared under [deals]",
                )

    outcome_specs = sections.outcomes(
        c, c.ids(c.table(raw, "", "outcomes"), "outcomes"), action_ids, months
    )

    events = []
    events_doc = c.ids(c.table(raw, "", "events", required=False, most=MAX_EVENTS), "events")
    for eid, doc in events_doc.items():
        events.append(_event(c, eid, doc, actor_ids, issue_ids, months, deal_ids, start))

    regimes = sections.regimes(
        c,
        c.ids(c.table(raw, "", "regimes", required=False), "regimes"),
        raw,
        start,
        months,
        lambda doc: from_dict(doc, source),
    )

    return Scenario(
        name=name,
        title=c.text(meta, "scenario", "title", default=name),
        description=c.text(meta, "scenario", "description", default=""),
        months=months,
        start=start,
        issues=tuple(issues),
        actors=tuple(actors),
        alignment=alignment,
        trust=trust,
        dynamics=dynamics,
        events=tuple(events),
        deals=deals,
        regimes=regimes,
        outcomes=outcome_specs,
        raw=raw,
        source=source,
    )


def _actor(c: Checker, aid: str, doc: Any, actor_ids: tuple, issue_ids: tuple) -> Actor:
    f = f"actors.{aid}"
    if not isinstance(doc, Mapping):
        c.fail(f, "expected a table", found=doc)
    c.keys(
        doc,
        f,
        (
            "label",
            "capability",
            "temperature",
            "memory",
            "position",
            "salience",
            "weights",
            "actions",
            "inertia",
            "policy",
        ),
    )
    weights_doc = c.table(doc, f, "weights")
    c.keys(weights_doc, f + ".weights", RELATION_WEIGHTS)
    actions_doc = c.ids(c.table(doc, f, "actions"), f + ".actions")
    if not actions_doc:
        c.fail(f + ".actions", "an actor needs at least one action")
    others = tuple(a for a in actor_ids if a != aid)
    actions = []
    for act_id, act in actions_doc.items():
        af = f"{f}.actions.{act_id}"
        if not isinstance(act, Mapping):
            c.fail(af, "expected a table", found=act)
        c.keys(act, af, ("label", "stance", "issues", "stakes", "bias", "available", "offers"))
        available = act.get("available", True)
        if not isinstance(available, bool):
            c.fail(af + ".available", "expected true or false", found=available)
        # (table, allowed names, low, high) of each kind of effect an action may declare
        kinds = {
            "stance": (others, -1, 1),
            "issues": (issue_ids, -1, 1),
            "stakes": (issue_ids, -10, 10),
        }
        effects = {
            kind: c.numbers_by(
                c.table(act, af, kind, required=False),
                f"{af}.{kind}",
                names,
                lo,
                hi,
                complete=False,
            )
            for kind, (names, lo, hi) in kinds.items()
        }
        actions.append(
            Action(
                id=act_id,
                label=c.text(act, af, "label", default=act_id),
                bias=c.number(act, af, "bias", -10, 10, default=0.0),
                available=available,
                offers=c.text(act, af, "offers") if "offers" in act else None,
                **effects,
            )
        )
    if not any(a.available for a in actions):
        # with nothing to choose, the choice rule divides by zero (NaN state)
        c.fail(
            f + ".actions",
            "no available action (every action has available = false)",
            allowed="at least one action an actor can choose",
        )
    return Actor(
        id=aid,
        label=c.text(doc, f, "label", default=aid),
        capability=c.number(doc, f, "capability", 0, 1e6, lo_open=True),
        # from MIN_TEMPERATURE up: at 5e-324 the choice rule's 1 / temperature overflows and
        # every probability becomes NaN
        temperature=c.number(doc, f, "temperature", MIN_TEMPERATURE, 100),
        memory=c.number(doc, f, "memory", 0, 1, lo_open=True),
        position=c.numbers_by(
            c.table(doc, f, "position"), f + ".position", issue_ids, -1, 1, complete=True
        ),
        salience=c.numbers_by(
            c.table(doc, f, "salience"), f + ".salience", issue_ids, 0, 1, complete=True
        ),
        weights={k: c.number(weights_doc, f + ".weights", k, 0, 100) for k in RELATION_WEIGHTS},
        actions=tuple(actions),
        inertia=c.number(doc, f, "inertia", 0, 10, default=0.0),
        policy=c.member(doc, f, "policy", tuple(a.id for a in actions))
        if "policy" in doc
        else None,
    )


def _pairs(c: Checker, doc: Mapping, actor_ids: tuple) -> dict[tuple[str, str], float]:
    """Symmetric alignment: every unordered pair given exactly once, as ``a.b = value``."""
    out: dict[tuple[str, str], float] = {}
    for a, inner in doc.items():
        if a not in actor_ids:
            c.fail(f"alignment.{a}", "unknown actor", allowed=", ".join(actor_ids))
        if not isinstance(inner, Mapping):
            c.fail(f"alignment.{a}", "expected a table of partner = value", found=inner)
        for b in inner:
            if b not in actor_ids or b == a:
                allowed = ", ".join(x for x in actor_ids if x != a)
                c.fail(f"alignment.{a}.{b}", "unknown partner", allowed=allowed)
            key = tuple(sorted((a, b)))
            if key in out:
                c.fail(f"alignment.{a}.{b}", "pair given twice (alignment is symmetric)")
            out[key] = c.number(inner, f"alignment.{a}", b, -1, 1)
    for i, a in enumerate(actor_ids):
        for b in actor_ids[i + 1 :]:
            if tuple(sorted((a, b))) not in out:
                c.fail(f"alignment.{a}.{b}", "missing number", allowed="a number in [-1, 1]")
    return out


def _trust(
    c: Checker, doc: Mapping, actor_ids: tuple
) -> dict[tuple[str, str], tuple[float, float]]:
    """Directed trust evidence (beta pseudo-counts): ``default`` plus ``truster.trusted``."""
    default = c.table(doc, "trust", "default")
    c.keys(default, "trust.default", ("favourable", "unfavourable"))
    base = tuple(
        c.number(default, "trust.default", k, 0, 1e4) for k in ("favourable", "unfavourable")
    )
    out = {(a, b): base for a in actor_ids for b in actor_ids if a != b}
    for a, inner in doc.items():
        if a == "default":
            continue
        if a not in actor_ids:
            c.fail(f"trust.{a}", "unknown actor", allowed="default, " + ", ".join(actor_ids))
        if not isinstance(inner, Mapping):
            c.fail(f"trust.{a}", "expected a table", found=inner)
        for b, ev in inner.items():
            f = f"trust.{a}.{b}"
            if b not in actor_ids or b == a:
                c.fail(f, "unknown partner", allowed=", ".join(x for x in actor_ids if x != a))
            if not isinstance(ev, Mapping):
                c.fail(f, "expected a table with favourable and unfavourable", found=ev)
            c.keys(ev, f, ("favourable", "unfavourable"))
            out[(a, b)] = tuple(c.number(ev, f, k, 0, 1e4) for k in ("favourable", "unfavourable"))
    return out


def _event(
    c: Checker,
    eid: str,
    doc: Any,
    actor_ids: tuple,
    issue_ids: tuple,
    months: int,
    deal_ids: tuple = (),
    start_date: str = "",
) -> Event:
    f = f"events.{eid}"
    if not isinstance(doc, Mapping):
        c.fail(f, "expected a table", found=doc)
    c.keys(
        doc,
        f,
        ("label", "date", "month", "hazard", "start", "end", "alignment", "stakes", "offers"),
    )
    has_month, has_hazard = "month" in doc or "date" in doc, "hazard" in doc
    if has_month == has_hazard:
        c.fail(f, "give exactly one of date or month (scheduled) or hazard (random, per month)")
    if "date" in doc:  # a date that could not be turned into a month: say why
        sections.when(c, doc, f, start_date, months, required=True)
    offers = c.member(doc, f, "offers", deal_ids) if "offers" in doc else None
    start = c.number(doc, f, "start", 1, months, integer=True, default=1)
    end = c.number(doc, f, "end", 1, months, integer=True) if "end" in doc else None
    if end is not None and end < start:
        c.fail(f + ".end", "ends before it starts", found=end, allowed=f"an integer >= {start}")
    align: dict[tuple[str, str], float] = {}
    for a, inner in c.table(doc, f, "alignment", required=False).items():
        if a not in actor_ids or not isinstance(inner, Mapping):
            c.fail(f"{f}.alignment.{a}", "unknown actor", allowed=", ".join(actor_ids))
        for b in inner:
            if b not in actor_ids or b == a:
                c.fail(
                    f"{f}.alignment.{a}.{b}",
                    "unknown partner",
                    allowed=", ".join(x for x in actor_ids if x != a),
                )
            align[tuple(sorted((a, b)))] = c.number(inner, f"{f}.alignment.{a}", b, -2, 2)
    stakes = c.numbers_by(
        c.table(doc, f, "stakes", required=False), f + ".stakes", issue_ids, -10, 10, complete=False
    )
    return Event(
        id=eid,
        label=c.text(doc, f, "label", default=eid),
        month=c.number(doc, f, "month", 1, months, integer=True) if has_month else None,
        hazard=c.number(doc, f, "hazard", 0, 1) if has_hazard else 0.0,
        start=start,
        end=end,
        alignment=align,
        stakes=stakes,
        offers=offers,
    )
