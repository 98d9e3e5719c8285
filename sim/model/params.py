"""Compile a scenario into numpy arrays for the rules, with a leading row axis.

Every numeric array of `Params` has a leading axis of length 1 (one parameter set shared by all
replicates) or R (one parameter set per replicate row, as in a sweep chunk). The rules broadcast
over it. `Params.locate` maps each dotted scenario name to the array cells it sets, so a sweep can
assign thousands of parameter values without rebuilding a `Scenario` per point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from sim.errors import SimInputError
from sim.scenario import RELATION_WEIGHTS, Scenario

# Months beyond any horizon: the "no end" of a random event's window.
NO_END = 1_000_000

# Fields that hold numbers per row (leading axis 1 or R). Everything else in `Params` is
# structure shared by all rows.
ROW_FIELDS = (
    "cap",
    "temp",
    "memory",
    "pos",
    "sal",
    "w_alignment",
    "w_reciprocity",
    "w_trust",
    "w_autonomy",
    "stance",
    "effect",
    "push",
    "bias",
    "stake_base",
    "persistence",
    "align0",
    "fav0",
    "unfav0",
    "rate",
    "overlap",
    "balance",
    "action",
    "trust",
    "evidence",
    "atmosphere",
    "trust_shock",
    "ev_month",
    "ev_hazard",
    "ev_start",
    "ev_end",
    "ev_align",
    "ev_stakes",
    "threshold",
    "run_length",
)


@dataclass(frozen=True)
class Params:
    """Numeric parameters of the rules as arrays (leading axis: rows) plus structure."""

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    actions: tuple[tuple[str, ...], ...]
    events: tuple[str, ...]
    months: int
    valid: np.ndarray  # (N, Amax) bool: which action slots exist
    betrayer: int
    betrayal_action: int
    victim: int
    pair: tuple[int, int]
    hedging: tuple[int, int, int]  # actor, east, west
    cap: np.ndarray
    temp: np.ndarray
    memory: np.ndarray
    pos: np.ndarray
    sal: np.ndarray
    w_alignment: np.ndarray
    w_reciprocity: np.ndarray
    w_trust: np.ndarray
    w_autonomy: np.ndarray
    stance: np.ndarray
    effect: np.ndarray
    push: np.ndarray
    bias: np.ndarray
    stake_base: np.ndarray
    persistence: np.ndarray
    align0: np.ndarray
    fav0: np.ndarray
    unfav0: np.ndarray
    rate: np.ndarray
    overlap: np.ndarray
    balance: np.ndarray
    action: np.ndarray
    trust: np.ndarray
    evidence: np.ndarray
    atmosphere: np.ndarray
    trust_shock: np.ndarray
    ev_month: np.ndarray
    ev_hazard: np.ndarray
    ev_start: np.ndarray
    ev_end: np.ndarray
    ev_align: np.ndarray
    ev_stakes: np.ndarray
    threshold: np.ndarray
    run_length: np.ndarray
    locate: Mapping[str, tuple[str, tuple[tuple[int, ...], ...]]] = field(repr=False)

    @cached_property
    def derived(self) -> Derived:
        """Constant arrays the rules need every month, computed once per parameter set."""
        return derive(self)

    @property
    def rows(self) -> int:
        """Length of the leading row axis (1 when shared by all replicates)."""
        return int(self.cap.shape[0])

    def take(self, rows: np.ndarray) -> Params:
        """Params for a subset (or repetition) of rows; shared (1-row) arrays stay shared."""
        if self.rows == 1:
            return self
        return replace(self, **{f: getattr(self, f)[rows] for f in ROW_FIELDS})

    def assign(self, values: Mapping[str, np.ndarray]) -> Params:
        """Set named parameters to per-row values (arrays of equal length R)."""
        if not values:
            return self
        lengths = {len(np.atleast_1d(v)) for v in values.values()}
        if len(lengths) != 1:
            raise ValueError(f"per-row values must have one length, got {sorted(lengths)}")
        n = lengths.pop()
        updated: dict[str, np.ndarray] = {}
        for name, vals in values.items():
            if name not in self.locate:
                raise SimInputError(
                    "unknown or non-sweepable parameter",
                    field=name,
                    allowed="a dotted scenario name (see `sim run SCENARIO --list-parameters`)",
                )
            fname, cells = self.locate[name]
            arr = updated.get(fname)
            if arr is None:
                base = getattr(self, fname)
                if base.shape[0] not in (1, n):
                    raise ValueError(f"{fname} already has {base.shape[0]} rows, not {n}")
                arr = np.repeat(base, n, axis=0) if base.shape[0] == 1 else base.copy()
                updated[fname] = arr
            vals = np.asarray(vals, dtype=arr.dtype)
            for cell in cells:
                arr[(slice(None), *cell)] = vals
        # Fields left untouched must already be shared (1 row) or have the same R rows.
        for fname in ROW_FIELDS:
            rows = getattr(self, fname).shape[0]
            if fname not in updated and rows not in (1, n):
                raise ValueError(f"{fname} has {rows} rows, not {n}")
        return replace(self, **updated)


@dataclass(frozen=True)
class Derived:
    """Products of parameters that do not change during a run (leading row axis 1 or R)."""

    issue_weight: np.ndarray  # (P, N, A, K): salience x position x action effect
    overlap_num: np.ndarray  # (P, N*N, K): sqrt(sal_i sal_j) (1 - |pos_i - pos_j|)
    overlap_den: np.ndarray  # (P, N*N, K): sqrt(sal_i sal_j)
    stance_commit: np.ndarray  # (P, N, A, 2N): stance, then max(stance, 0)
    dependence: np.ndarray  # (P, N, A): w_autonomy x sum_j max(stance, 0)^2
    cap_share: np.ndarray  # (P, N, N): cap_i / (cap_i + cap_j)
    weights: np.ndarray  # (P, 4): overlap, balance, action, trust, normalised to sum 1


def derive(p: Params) -> Derived:
    """Compute the `Derived` arrays of a parameter set."""
    n, k = p.pos.shape[1], p.pos.shape[2]
    root = np.sqrt(p.sal[:, :, None, :] * p.sal[:, None, :, :])
    agree = 1.0 - np.abs(p.pos[:, :, None, :] - p.pos[:, None, :, :])
    w = np.stack([p.overlap, p.balance, p.action, p.trust], axis=1).astype(np.float64)
    total = w.sum(axis=1, keepdims=True)
    return Derived(
        issue_weight=(p.sal * p.pos)[:, :, None, :] * p.effect,
        overlap_num=(root * agree).reshape(-1, n * n, k),
        overlap_den=root.reshape(-1, n * n, k),
        stance_commit=np.concatenate([p.stance, np.maximum(p.stance, 0.0)], axis=-1),
        dependence=p.w_autonomy[:, :, None] * (np.maximum(p.stance, 0.0) ** 2).sum(axis=-1),
        cap_share=p.cap[:, :, None] / (p.cap[:, :, None] + p.cap[:, None, :]),
        weights=w / np.where(total > 0, total, 1.0),
    )


def compile_params(scenario: Scenario) -> Params:
    """Turn a validated scenario into `Params` with one shared row."""
    actors, issues = scenario.actor_ids, scenario.issue_ids
    n, k = len(actors), len(issues)
    ai = {a: i for i, a in enumerate(actors)}
    ki = {x: i for i, x in enumerate(issues)}
    amax = max(len(a.actions) for a in scenario.actors)
    events = scenario.events
    e = len(events)
    loc: dict[str, tuple[str, tuple[tuple[int, ...], ...]]] = {}

    def put(name: str, fname: str, *cells: tuple[int, ...]) -> None:
        loc[name] = (fname, cells)

    cap, temp, memory = np.zeros(n), np.zeros(n), np.zeros(n)
    pos, sal = np.zeros((n, k)), np.zeros((n, k))
    w = {wk: np.zeros(n) for wk in RELATION_WEIGHTS}
    stance = np.zeros((n, amax, n))
    effect, push = np.zeros((n, amax, k)), np.zeros((n, amax, k))
    bias = np.zeros((n, amax))
    valid = np.zeros((n, amax), dtype=bool)
    for i, actor in enumerate(scenario.actors):
        p = f"actors.{actor.id}"
        cap[i], temp[i], memory[i] = actor.capability, actor.temperature, actor.memory
        put(f"{p}.capability", "cap", (i,))
        put(f"{p}.temperature", "temp", (i,))
        put(f"{p}.memory", "memory", (i,))
        for iss, v in actor.position.items():
            pos[i, ki[iss]] = v
            put(f"{p}.position.{iss}", "pos", (i, ki[iss]))
        for iss, v in actor.salience.items():
            sal[i, ki[iss]] = v
            put(f"{p}.salience.{iss}", "sal", (i, ki[iss]))
        for wk in RELATION_WEIGHTS:
            w[wk][i] = actor.weights[wk]
            put(f"{p}.weights.{wk}", f"w_{wk}", (i,))
        for a, act in enumerate(actor.actions):
            valid[i, a] = True
            q = f"{p}.actions.{act.id}"
            bias[i, a] = act.bias
            if "bias" in scenario.raw["actors"][actor.id]["actions"][act.id]:
                put(f"{q}.bias", "bias", (i, a))
            for other, v in act.stance.items():
                stance[i, a, ai[other]] = v
                put(f"{q}.stance.{other}", "stance", (i, a, ai[other]))
            for iss, v in act.issues.items():
                effect[i, a, ki[iss]] = v
                put(f"{q}.issues.{iss}", "effect", (i, a, ki[iss]))
            for iss, v in act.stakes.items():
                push[i, a, ki[iss]] = v
                put(f"{q}.stakes.{iss}", "push", (i, a, ki[iss]))

    stake_base = np.array([x.stake for x in scenario.issues])
    persistence = np.array([x.persistence for x in scenario.issues])
    for j, x in enumerate(scenario.issues):
        put(f"issues.{x.id}.stake", "stake_base", (j,))
        put(f"issues.{x.id}.persistence", "persistence", (j,))

    align0 = np.eye(n)
    for (a, b), v in scenario.alignment.items():
        align0[ai[a], ai[b]] = align0[ai[b], ai[a]] = v
    for a, inner in scenario.raw["alignment"].items():
        for b in inner:
            put(f"alignment.{a}.{b}", "align0", (ai[a], ai[b]), (ai[b], ai[a]))

    fav0, unfav0 = np.zeros((n, n)), np.zeros((n, n))
    for (a, b), (f, u) in scenario.trust.items():
        fav0[ai[a], ai[b]], unfav0[ai[a], ai[b]] = f, u
    explicit = {
        (ai[a], ai[b])
        for a, inner in scenario.raw["trust"].items()
        if a != "default"
        for b in inner
    }
    defaults = tuple(
        (i, j) for i in range(n) for j in range(n) if i != j and (i, j) not in explicit
    )
    put("trust.default.favourable", "fav0", *defaults)
    put("trust.default.unfavourable", "unfav0", *defaults)
    for i, j in explicit:
        put(f"trust.{actors[i]}.{actors[j]}.favourable", "fav0", (i, j))
        put(f"trust.{actors[i]}.{actors[j]}.unfavourable", "unfav0", (i, j))

    dyn = {key: np.array([v]) for key, v in scenario.dynamics.items()}
    for key in dyn:
        put(f"dynamics.{key}", key, ())
    put("betrayal.trust_shock", "trust_shock", ())
    put("outcomes.partnership.threshold", "threshold", ())
    put("outcomes.partnership.months", "run_length", ())

    ev_month = np.full(e, -1, dtype=np.int64)
    ev_hazard, ev_start = np.zeros(e), np.zeros(e, dtype=np.int64)
    ev_end = np.full(e, NO_END, dtype=np.int64)
    ev_align, ev_stakes = np.zeros((e, n, n)), np.zeros((e, k))
    for x, ev in enumerate(events):
        p = f"events.{ev.id}"
        if ev.month is not None:
            ev_month[x] = ev.month
            put(f"{p}.month", "ev_month", (x,))
        else:
            ev_hazard[x] = ev.hazard
            put(f"{p}.hazard", "ev_hazard", (x,))
        ev_start[x] = ev.start
        put(f"{p}.start", "ev_start", (x,))
        if ev.end is not None:
            ev_end[x] = ev.end
            put(f"{p}.end", "ev_end", (x,))
        for (a, b), v in ev.alignment.items():
            ev_align[x, ai[a], ai[b]] = ev_align[x, ai[b], ai[a]] = v
        for a, inner in scenario.raw["events"][ev.id].get("alignment", {}).items():
            for b in inner:
                put(f"{p}.alignment.{a}.{b}", "ev_align", (x, ai[a], ai[b]), (x, ai[b], ai[a]))
        for iss, v in ev.stakes.items():
            ev_stakes[x, ki[iss]] = v
            put(f"{p}.stakes.{iss}", "ev_stakes", (x, ki[iss]))

    bet = scenario.betrayal
    b = ai[bet["actor"]]
    action_ids = tuple(tuple(a.id for a in actor.actions) for actor in scenario.actors)
    h = scenario.hedging

    def row(x: Any, dtype: Any = float) -> np.ndarray:
        return np.asarray(x, dtype=dtype)[None, ...]

    return Params(
        actors=actors,
        issues=issues,
        actions=action_ids,
        events=tuple(ev.id for ev in events),
        months=scenario.months,
        valid=valid,
        betrayer=b,
        betrayal_action=action_ids[b].index(bet["action"]),
        victim=ai[bet["victim"]],
        pair=(ai[scenario.partnership["actors"][0]], ai[scenario.partnership["actors"][1]]),
        hedging=(ai[h["actor"]], ai[h["east"]], ai[h["west"]]),
        cap=row(cap),
        temp=row(temp),
        memory=row(memory),
        pos=row(pos),
        sal=row(sal),
        w_alignment=row(w["alignment"]),
        w_reciprocity=row(w["reciprocity"]),
        w_trust=row(w["trust"]),
        w_autonomy=row(w["autonomy"]),
        stance=row(stance),
        effect=row(effect),
        push=row(push),
        bias=row(bias),
        stake_base=row(stake_base),
        persistence=row(persistence),
        align0=row(align0),
        fav0=row(fav0),
        unfav0=row(unfav0),
        rate=dyn["rate"],
        overlap=dyn["overlap"],
        balance=dyn["balance"],
        action=dyn["action"],
        trust=dyn["trust"],
        evidence=dyn["evidence"],
        atmosphere=dyn["atmosphere"],
        trust_shock=np.array([bet["trust_shock"]]),
        ev_month=row(ev_month, np.int64),
        ev_hazard=row(ev_hazard),
        ev_start=row(ev_start, np.int64),
        ev_end=row(ev_end, np.int64),
        ev_align=row(ev_align),
        ev_stakes=row(ev_stakes),
        threshold=np.array([scenario.partnership["threshold"]]),
        run_length=np.array([scenario.partnership["months"]], dtype=np.int64),
        locate=loc,
    )
