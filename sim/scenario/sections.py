"""The scenario sections that make the world change over time: deals, regimes and outcomes.

- A **deal** (``[deals.X]``) is a trade one actor can make only while an offer is on the table
  (C11: Russia trading its Syria stance for Western concessions on Ukraine). Events and
  actions put offers on the table (``offers = "X"``); taking the deal binds the actor for a
  while, and leaving it early costs ``exit_cost``.
- A **regime change** (``[regimes.X]``) changes the world from its date on, persistently: it
  sets or shifts named parameters (``set``/``shift`` tables keyed by dotted names).
- An **outcome declaration** (``[outcomes.X]``) names what a run is scored on: one of the
  registered outcome kinds (`sim.scenario.outcome_kinds`; the built-in ones are a partnership,
  a defection and a balance, each a module of `sim.model.outcomes`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.errors import SimInputError
from sim.scenario import calendar, outcome_kinds
from sim.scenario.checker import Checker

# Parameters a regime may change: the world's structure and the actors' preferences, not the
# initial conditions, outcome definitions or event dates.
REGIME_TARGETS = ("actors.", "issues.", "dynamics.", "deals.", "events.")
REGIME_FIXED_SUFFIXES = (".month", ".start", ".end", ".label")
SWITCHES = ("bias", "available")  # action keys a regime may set even when the file omits them


@dataclass(frozen=True)
class Deal:
    """A trade ``actor`` can make by choosing ``action`` while an offer is on the table."""

    id: str
    label: str
    actor: str
    action: str
    victim: str
    open_months: int
    binds: int
    exit_cost: float
    trust_shock: float


@dataclass(frozen=True)
class Change:
    """One parameter change of a regime: ``set`` to a value or ``shift`` by an amount."""

    target: str
    op: str
    value: float


@dataclass(frozen=True)
class Regime:
    """A persistent change of the world from ``month`` on (month 1 is the scenario's start)."""

    id: str
    label: str
    month: int
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class OutcomeSpec:
    """A declared outcome: its id, kind and the kind's fields (actors, thresholds, ...)."""

    id: str
    kind: str
    fields: Mapping[str, Any]


def when(c: Checker, doc: Mapping, field: str, start: str, months: int, required: bool) -> int:
    """The month of a dated (``date``) or numbered (``month``) item, within the horizon."""
    if "date" in doc and "month" in doc:
        c.fail(field, "give either date or month, not both")
    if "date" in doc:
        date = c.text(doc, field, "date")
        try:
            month = calendar.month_of(date, start)
        except ValueError:
            c.fail(f"{field}.date", "not a date", found=date, allowed=calendar.FORMAT)
        last = calendar.date_of(months, start)
        if not 1 <= month <= months:
            c.fail(
                f"{field}.date",
                "outside the scenario's months",
                found=date,
                allowed=f"a month from {start} to {last}",
            )
        return month
    if "month" in doc or required:
        return c.number(doc, field, "month", 1, months, integer=True)
    return 0


def dates_to_months(raw: dict[str, Any], start: str) -> None:
    """Replace ``date`` by ``month`` in events and regimes, in place, so that every month is a
    named number (sweepable as ``events.X.month`` or ``regimes.X.month``); bad dates and dates
    outside the horizon are left for the checks to report.
    """
    months = raw.get("scenario", {}).get("months")
    for section in ("events", "regimes"):
        table = raw.get(section)
        if not isinstance(table, Mapping):
            continue
        for doc in table.values():
            if isinstance(doc, dict) and isinstance(doc.get("date"), str) and "month" not in doc:
                try:
                    month = calendar.month_of(doc["date"], start)
                except ValueError:
                    continue
                if isinstance(months, int) and 1 <= month <= months:
                    doc["month"] = month
                    del doc["date"]


def deals(c: Checker, doc: Mapping, actions: Mapping[str, tuple[str, ...]]) -> tuple[Deal, ...]:
    """Validate ``[deals]``: ``actions`` maps each actor to its action ids."""
    actor_ids = tuple(actions)
    out = []
    for did, d in doc.items():
        f = f"deals.{did}"
        if not isinstance(d, Mapping):
            c.fail(f, "expected a table", found=d)
        c.keys(
            d,
            f,
            (
                "label",
                "actor",
                "action",
                "victim",
                "open_months",
                "binds",
                "exit_cost",
                "trust_shock",
            ),
        )
        actor = c.member(d, f, "actor", actor_ids)
        victim = c.member(d, f, "victim", tuple(a for a in actor_ids if a != actor))
        out.append(
            Deal(
                id=did,
                label=c.text(d, f, "label", default=did),
                actor=actor,
                action=c.member(d, f, "action", actions[actor]),
                victim=victim,
                open_months=c.number(d, f, "open_months", 1, 600, integer=True),
                binds=c.number(d, f, "binds", 0, 600, integer=True),
                exit_cost=c.number(d, f, "exit_cost", 0, 10),
                trust_shock=c.number(d, f, "trust_shock", 0, 1000),
            )
        )
    taken = [(d.actor, d.action) for d in out]
    if len(set(taken)) != len(taken):
        c.fail("deals", "two deals share one actor's action", found=taken)
    return tuple(out)


def outcomes(
    c: Checker, doc: Mapping, actions: Mapping[str, tuple[str, ...]], horizon: int = 10_000
) -> tuple:
    """Validate ``[outcomes]``: each declaration has a registered ``kind`` and that kind's
    fields (the kind checks them: `sim.scenario.outcome_kinds`); a number of ``months`` an
    outcome must hold is within the scenario's ``horizon`` (a longer one can never hold).
    """
    kinds = outcome_kinds.known()
    out = []
    for oid, o in doc.items():
        f = f"outcomes.{oid}"
        if not isinstance(o, Mapping):
            c.fail(f, "expected a table", found=o)
        kind = kinds[c.member(o, f, "kind", tuple(kinds))]
        c.keys(o, f, ("kind", "label", *kind.keys))
        fields: dict[str, Any] = {"label": c.text(o, f, "label", default=oid)}
        fields.update(kind.declare(c, o, f, actions))
        held = fields.get("months")
        if isinstance(held, int) and not isinstance(held, bool) and held > horizon:
            c.fail(
                f"{f}.months",
                "out of range",
                found=held,
                allowed=f"1 to {horizon} (the scenario's months: a longer one can never hold)",
            )
        out.append(OutcomeSpec(id=oid, kind=kind.name, fields=fields))
    return tuple(out)


def actor_list(c: Checker, doc: Mapping, field: str, key: str, actor_ids: tuple, n: int) -> tuple:
    """A list of ``n`` different known actors."""
    value = doc.get(key)
    if (
        not isinstance(value, list)
        or len(value) != n
        or len(set(value)) != n
        or any(v not in actor_ids for v in value)
    ):
        c.fail(
            f"{field}.{key}",
            f"expected a list of {n} different actors",
            found=value,
            allowed=", ".join(actor_ids),
        )
    return tuple(value)


def regimes(
    c: Checker,
    doc: Mapping,
    raw: Mapping[str, Any],
    start: str,
    months: int,
    check: Callable[[dict[str, Any]], Any],
) -> tuple[Regime, ...]:
    """Validate ``[regimes]``. Each regime's changes are applied, in month order, to a copy of
    the scenario and ``check`` validates the result, so a regime can never make a number leave
    its allowed range.
    """
    known = dict(_numbers(raw))
    out = []
    for rid, r in doc.items():
        f = f"regimes.{rid}"
        if not isinstance(r, Mapping):
            c.fail(f, "expected a table", found=r)
        c.keys(r, f, ("label", "description", "date", "month", "set", "shift"))
        month = when(c, r, f, start, months, required=True)
        changes = []
        for op in ("set", "shift"):
            table = c.table(r, f, op, required=False)
            for target, value in table.items():
                tf = f'{f}.{op}."{target}"'
                _target(c, tf, target, known, raw, op)
                if isinstance(value, bool) and target.endswith(".available") and op == "set":
                    value = float(value)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    c.fail(tf, "expected a number", found=value)
                changes.append(Change(target=target, op=op, value=float(value)))
        if not changes:
            c.fail(f, "a regime needs at least one change in its set or shift table")
        out.append(
            Regime(
                id=rid,
                label=c.text(r, f, "label", default=rid),
                month=month,
                changes=tuple(changes),
            )
        )
    doc_now = copy.deepcopy(dict(raw))
    doc_now.pop("regimes", None)
    for reg in sorted(out, key=lambda x: x.month):
        for ch in reg.changes:
            _apply(doc_now, ch)
        try:
            check(copy.deepcopy(doc_now))
        except SimInputError as exc:
            c.fail(
                f"regimes.{reg.id}",
                f"leaves the scenario invalid from month {reg.month}: {exc.field}: {exc.detail}",
                found=exc.found,
                allowed=exc.allowed,
            )
    return tuple(sorted(out, key=lambda x: x.month))


def _numbers(doc: Mapping, prefix: str = ""):
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _numbers(value, name + ".")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield name, value


def _target(c: Checker, field: str, target: str, known: Mapping, raw: Mapping, op: str) -> None:
    allowed = "a dotted parameter name of the actors, issues, dynamics, deals or events"
    if not target.startswith(REGIME_TARGETS) or target.endswith(REGIME_FIXED_SUFFIXES):
        c.fail(field, "not a parameter a regime can change", allowed=allowed)
    if target in known:
        return
    parts = target.split(".")
    is_switch = (
        len(parts) == 5
        and parts[0] == "actors"
        and parts[2] == "actions"
        and parts[4] in SWITCHES
        and isinstance(
            raw.get("actors", {}).get(parts[1], {}).get("actions", {}).get(parts[3]), Mapping
        )
    )
    if not is_switch:
        c.fail(field, "unknown parameter", allowed=allowed)
    if parts[4] == "available" and op != "set":
        c.fail(field, "availability can only be set (to true or false)")


def _apply(doc: dict[str, Any], ch: Change) -> None:
    *parents, leaf = ch.target.split(".")
    node = doc
    for p in parents:
        node = node[p]
    if leaf == "available":
        node[leaf] = bool(ch.value)
    elif ch.op == "set":
        node[leaf] = ch.value
    else:
        node[leaf] = float(node.get(leaf, 0.0)) + ch.value
