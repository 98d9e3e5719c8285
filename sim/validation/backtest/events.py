"""Observables in the model's terms: the events a backtest scores and the questions a forecast
answers.

An events file (``backtests/<name>/events.toml``) and a questions file
(``forecasts/questions/<name>.toml``) share one vocabulary of observables, each with a date
window (calendar months, "YYYY-MM"):

- ``alignment_change``: a pair's mean alignment over ``window`` is higher (or ``lower``) than
  over ``reference`` (binary);
- ``action_months``: the months of ``window`` in which an actor chooses one of ``actions``: a
  count (numeric) or, with ``at_least = k`` / ``most = true``, a binary test on it;
- ``alignment_run``: a pair's alignment stays above ``threshold`` for ``months`` consecutive
  months, completed within ``window`` (binary);
- ``alignment_level``: a pair's mean alignment over ``window`` (numeric).

An event adds what happened (``observed``), its ``source`` and its ``period`` (calibration
or after); a question adds its ``resolution`` rule. `values` computes an observable for every
run of a trajectory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import SimInputError
from sim.model.engine import Trajectory
from sim.model.outcomes import partnership_months
from sim.model.params import Params
from sim.results import file_sha256
from sim.scenario import calendar, read_toml
from sim.scenario.names import identifier, identifiers

KINDS = ("alignment_change", "action_months", "alignment_run", "alignment_level")
KIND_KEYS = {
    "alignment_change": ("pair", "reference", "window", "direction"),
    "action_months": ("actor", "actions", "window", "at_least", "most"),
    "alignment_run": ("pair", "threshold", "months", "window"),
    "alignment_level": ("pair", "window"),
}
PERIODS = ("calibration", "after")
COMMON = ("label", "kind", "definition", "window")
EVENT_KEYS = (*COMMON, "period", "observed", "source", "scope")
QUESTION_KEYS = (*COMMON, "resolution", "note")


@dataclass(frozen=True)
class Observable:
    """One observable in the model's terms, with its window and what it measures."""

    id: str
    label: str
    kind: str
    window: tuple[str, str]
    definition: str
    fields: Mapping[str, Any]

    @property
    def binary(self) -> bool:
        """True for a yes/no observable, False for a number (a count or a level)."""
        if self.kind == "action_months":
            return "at_least" in self.fields or bool(self.fields.get("most"))
        return self.kind in ("alignment_change", "alignment_run")

    @property
    def months(self) -> int:
        """The number of calendar months in the window."""
        return calendar.month_of(self.window[1], self.window[0])


@dataclass(frozen=True)
class Event:
    """A pre-registered event: an observable, what was observed, its source and period.

    ``in_scope`` is False for an observable the model cannot represent (recorded, not scored;
    its ``observable`` is None).
    """

    id: str
    label: str
    period: str
    observed: float
    source: str
    definition: str
    window: tuple[str, str]
    observable: Observable | None

    @property
    def in_scope(self) -> bool:
        """Whether the model can forecast this event (it is scored)."""
        return self.observable is not None


@dataclass(frozen=True)
class EventSet:
    """An events file: the scenario it is scored on, the calibration cutoff and its events."""

    name: str
    path: Path
    scenario: Path
    calibration_end: str
    description: str
    events: tuple[Event, ...]
    sha256: str

    @property
    def scored(self) -> tuple[Event, ...]:
        """The events inside the model's scope."""
        return tuple(e for e in self.events if e.in_scope)


# --------------------------------------------------------------------------------------------
# Reading


def _fail(src: str, field: str, message: str, found: Any = None, allowed: str | None = None):
    raise SimInputError(message, file=src, field=field, found=found, allowed=allowed)


def _text(doc: Mapping, src: str, field: str, key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        _fail(src, f"{field}.{key}", "expected a non-empty text", found=value)
    return value.strip()


def _month(value: Any, src: str, field: str) -> str:
    try:
        calendar.parse(value)
    except ValueError:
        _fail(src, field, "not a month", found=value, allowed=calendar.FORMAT)
    return value


def _window(doc: Mapping, src: str, field: str, key: str = "window") -> tuple[str, str]:
    value = doc.get(key)
    if not isinstance(value, list) or len(value) != 2:
        _fail(src, f"{field}.{key}", "expected [first month, last month]", found=value)
    first, last = (_month(v, src, f"{field}.{key}") for v in value)
    if calendar.month_of(last, first) < 1:
        _fail(src, f"{field}.{key}", "ends before it starts", found=value)
    return first, last


def _keys(doc: Mapping, src: str, field: str, allowed: tuple[str, ...]) -> None:
    for key in doc:
        if key not in allowed:
            _fail(src, f"{field}.{key}", "unknown key", allowed=", ".join(allowed))


def observable(oid: str, doc: Mapping, src: str, field: str, extra: tuple[str, ...]) -> Observable:
    """Validate one observable table (``extra``: the keys an event or question adds)."""
    kind = doc.get("kind")
    if kind not in KINDS:
        _fail(src, f"{field}.kind", "unknown kind", found=kind, allowed=", ".join(KINDS))
    _keys(doc, src, field, (*extra, *KIND_KEYS[kind]))
    window = _window(doc, src, field)
    fields: dict[str, Any] = {}
    if "pair" in KIND_KEYS[kind]:
        pair = doc.get("pair")
        if not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]:
            _fail(src, f"{field}.pair", "expected two different actors", found=pair)
        fields["pair"] = tuple(pair)
    if kind == "alignment_change":
        fields["reference"] = _window(doc, src, field, "reference")
        direction = doc.get("direction")
        if direction not in ("higher", "lower"):
            _fail(src, f"{field}.direction", "expected higher or lower", found=direction)
        fields["direction"] = direction
    elif kind == "action_months":
        fields["actor"] = _text(doc, src, field, "actor")
        actions = doc.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions or [0]):
            _fail(src, f"{field}.actions", "expected a list of action ids", found=actions)
        fields["actions"] = tuple(actions)
        if "at_least" in doc and "most" in doc:
            _fail(src, field, "give at most one of at_least and most")
        if "at_least" in doc:
            k = doc["at_least"]
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                _fail(src, f"{field}.at_least", "expected a whole number >= 1", found=k)
            fields["at_least"] = k
        if "most" in doc:
            if doc["most"] is not True:
                _fail(src, f"{field}.most", "expected true (or leave it out)", found=doc["most"])
            fields["most"] = True
    elif kind == "alignment_run":
        threshold = doc.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            _fail(src, f"{field}.threshold", "expected a number in (-1, 1)", found=threshold)
        if not -1 < threshold < 1:
            _fail(src, f"{field}.threshold", "expected a number in (-1, 1)", found=threshold)
        months = doc.get("months")
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            _fail(src, f"{field}.months", "expected a whole number >= 1", found=months)
        fields["threshold"], fields["months"] = float(threshold), months
    return Observable(
        id=oid,
        label=_text(doc, src, field, "label"),
        kind=kind,
        window=window,
        definition=_text(doc, src, field, "definition"),
        fields=fields,
    )


def _event(eid: str, doc: Any, src: str, calibration_end: str) -> Event:
    field = f"events.{eid}"
    if not isinstance(doc, Mapping):
        _fail(src, field, "expected a table", found=doc)
    # The refusals a backtest owes its readers: no event without a source or a window.
    for key in ("source", "window"):
        if key not in doc:
            _fail(src, f"{field}.{key}", "missing: every event needs a source and a date window")
    source = _text(doc, src, field, "source")
    period = doc.get("period")
    if period not in PERIODS:
        _fail(src, f"{field}.period", "unknown period", found=period, allowed=", ".join(PERIODS))
    window = _window(doc, src, field)
    inside = calendar.month_of(window[1], calibration_end) <= 1  # ends by the cutoff
    if (period == "calibration") != inside:
        _fail(
            src,
            f"{field}.period",
            f"does not match the window (calibration ends {calibration_end})",
            found=period,
            allowed="calibration" if inside else "after",
        )
    scope = doc.get("scope", "model")
    if scope not in ("model", "out"):
        _fail(src, f"{field}.scope", "unknown scope", found=scope, allowed="model, out")
    obs = None
    if scope == "model":
        obs = observable(eid, doc, src, field, EVENT_KEYS)
    else:
        _keys(doc, src, field, EVENT_KEYS)
    observed = doc.get("observed")
    binary = obs.binary if obs is not None else isinstance(observed, bool)
    if binary and not isinstance(observed, bool):
        _fail(src, f"{field}.observed", "expected true or false", found=observed)
    if not binary and (isinstance(observed, bool) or not isinstance(observed, (int, float))):
        _fail(src, f"{field}.observed", "expected a number", found=observed)
    if not binary and not math.isfinite(observed):  # a NaN observation scores as nothing
        _fail(src, f"{field}.observed", "expected a finite number", found=observed)
    return Event(
        id=eid,
        label=_text(doc, src, field, "label"),
        period=period,
        observed=float(observed),
        source=source,
        definition=_text(doc, src, field, "definition"),
        window=window,
        observable=obs,
    )


def load_events(path: str | Path) -> EventSet:
    """Read and validate an events file (every event needs a source and a window)."""
    path = Path(path)
    src = str(path)
    doc = read_toml(path)
    _keys(doc, src, "", ("backtest", "events"))
    meta = doc.get("backtest")
    if not isinstance(meta, Mapping):
        _fail(src, "backtest", "missing table", allowed="[backtest] with name and scenario")
    _keys(meta, src, "backtest", ("name", "scenario", "calibration_end", "description"))
    # The name becomes the default results folder: a plain identifier, as written.
    name = identifier(meta.get("name"), src, "backtest.name")
    end = _month(meta.get("calibration_end"), src, "backtest.calibration_end")
    table = doc.get("events")
    if not isinstance(table, Mapping) or not table:
        _fail(src, "events", "no events", allowed="[events.<id>] tables")
    identifiers(table, src, "events")
    events = tuple(_event(eid, d, src, end) for eid, d in table.items())
    if not any(e.in_scope for e in events):
        _fail(src, "events", "no event inside the model's scope to score")
    return EventSet(
        name=name,
        path=path,
        scenario=(path.parent / _text(meta, src, "backtest", "scenario")).resolve(),
        calibration_end=end,
        description=str(meta.get("description", "")).strip(),
        events=events,
        sha256=file_sha256(path),
    )


def check_against(obs: Observable, params: Params, months: int, src: str = "") -> None:
    """Refuse an observable that names unknown actors or actions, or a window the run misses."""
    field = f"events.{obs.id}"
    actors = params.actors
    for actor in obs.fields.get("pair", ()):
        if actor not in actors:
            _fail(src, f"{field}.pair", "unknown actor", found=actor, allowed=", ".join(actors))
    if obs.kind == "action_months":
        actor = obs.fields["actor"]
        if actor not in actors:
            _fail(src, f"{field}.actor", "unknown actor", found=actor, allowed=", ".join(actors))
        names = params.actions[actors.index(actor)]
        for a in obs.fields["actions"]:
            if a not in names:
                _fail(src, f"{field}.actions", "unknown action", found=a, allowed=", ".join(names))
    first = 0 if obs.kind in ("alignment_change", "alignment_level") else 1
    windows = [obs.window, obs.fields.get("reference", obs.window)]
    for w in windows:
        lo, hi = (calendar.month_of(d, params.start) for d in w)
        if lo < first or hi > months:
            _fail(
                src,
                f"{field}.window",
                "outside the simulated months",
                found=list(w),
                allowed=f"months from {calendar.date_of(first, params.start)} to "
                f"{calendar.date_of(months, params.start)}",
            )


# --------------------------------------------------------------------------------------------
# Computing observables


def _span(window: tuple[str, str], start: str) -> slice:
    lo, hi = (calendar.month_of(d, start) for d in window)
    return slice(lo, hi + 1)


def values(obs: Observable, traj: Trajectory, params: Params) -> np.ndarray:
    """The observable for every run of ``traj``: bool (binary) or float (numeric), (R,)."""
    f, start = obs.fields, traj.start
    if obs.kind == "action_months":
        n = params.actors.index(f["actor"])
        names = params.actions[n]
        codes = [names.index(a) for a in f["actions"]]
        w = _span(obs.window, start)
        acts = traj.actions[:, w.start - 1 : w.stop - 1, n]  # actions cover months 1..T
        count = np.isin(acts, codes).sum(axis=1).astype(np.float64)
        if "at_least" in f:
            return count >= f["at_least"]
        if f.get("most"):
            return count > acts.shape[1] / 2
        return count
    i, j = (params.actors.index(a) for a in f["pair"])
    series = traj.pair_series(i, j).astype(np.float64)  # months 0..T
    if obs.kind == "alignment_run":
        w = _span(obs.window, start)
        return partnership_months(series[:, w], f["threshold"], f["months"]) > 0
    level = series[:, _span(obs.window, start)].mean(axis=1)
    if obs.kind == "alignment_level":
        return level
    diff = level - series[:, _span(f["reference"], start)].mean(axis=1)
    return diff > 0 if f["direction"] == "higher" else diff < 0
