"""Compile a scenario into numpy arrays for the rules, with a leading row axis.

Every numeric array of `Params` has a leading axis of length 1 (one parameter set shared by all
replicates) or R (one parameter set per replicate row, as in a sweep chunk). The rules broadcast
over it. `Params.locate` maps each dotted scenario name to the array cells it sets, so a sweep can
assign thousands of parameter values without rebuilding a `Scenario` per point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np

from sim.errors import SimInputError
from sim.scenario import Scenario
from sim.scenario.sections import OutcomeSpec

# Months beyond any horizon: the "no end" of a random event's window.
NO_END = 1_000_000

# Dimension letters of the parameter arrays (after the leading row axis of a per-row field):
# N actors, A action slots (the most any actor has), K issues, E events, D deals, G regimes,
# C regime changes.
DIMS = "NAKEDGC"


def per_row(dims: str, dtype: Any = np.float64, *, kernel: bool = True, actor: str = "") -> Any:
    """Declare a `Params` field that holds numbers per row: leading axis 1 (shared by every
    replicate) or R (one value per replicate, as in a sweep chunk), then ``dims``.

    ``kernel``: the compiled kernel reads the array itself (otherwise it reads only what
    `derive` makes of it). ``actor``: for a per-actor number (``dims`` "N"), the scenario
    attribute of each actor it comes from (dotted into a mapping: "weights.trust"), so
    `compile_params` fills it and names it ``actors.<id>.<actor>`` for sweeps.
    """
    meta = {"dims": dims, "dtype": np.dtype(dtype), "per_row": True, "kernel": kernel}
    return field(metadata={**meta, "actor": actor})


def shared(dims: str, dtype: Any, *, kernel: bool = True) -> Any:
    """Declare a `Params` field of structure shared by every row (no row axis)."""
    meta = {"dims": dims, "dtype": np.dtype(dtype), "per_row": False, "kernel": kernel}
    return field(metadata={**meta, "actor": ""})


@dataclass(frozen=True)
class FieldChange:
    """A regime's change of one named parameter: the array cells it sets or shifts."""

    regime: int
    name: str
    field: str
    cells: tuple[tuple[int, ...], ...]
    op: str  # "set" or "shift"


@dataclass(frozen=True)
class Params:
    """Numeric parameters of the rules as arrays (leading axis: rows) plus structure."""

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    actions: tuple[tuple[str, ...], ...]
    events: tuple[str, ...]
    months: int
    start: str  # calendar month of month 1 ("YYYY-MM")
    # The parameter table: every array field declares its dimensions, dtype, whether it is
    # shared structure or numbers per row, and whether the kernel reads it (`shared`,
    # `per_row`); `ROW_FIELDS`, the kernel's layout (`sim.model.layout.FIELDS`) and the
    # arrays `compile_params` returns are generated from it.
    valid: np.ndarray = shared("N A", np.bool_)  # which action slots exist
    policy0: np.ndarray = shared("N", np.int64)  # policy held at the start (-1: none)
    deals: tuple[str, ...]
    deal_actor: np.ndarray = shared("D", np.int64)  # who can take each deal
    deal_action: np.ndarray = shared("D", np.int64)  # the action that takes it
    deal_victim: np.ndarray = shared("D", np.int64)  # whom taking it betrays
    ev_offer: np.ndarray = shared("E D", np.bool_)  # events that put an offer on the table
    act_offer: np.ndarray = shared("N A D", np.bool_)  # actions that put an offer on the table
    regimes: tuple[str, ...]
    changes: tuple[FieldChange, ...]  # every regime's parameter changes, in regime order
    outcome_specs: tuple[OutcomeSpec, ...]
    cap: np.ndarray = per_row("N", kernel=False, actor="capability")
    temp: np.ndarray = per_row("N", actor="temperature")  # logit choice temperature
    memory: np.ndarray = per_row("N", actor="memory")  # monthly retention of trust evidence
    pos: np.ndarray = per_row("N K", kernel=False)  # position on each issue
    sal: np.ndarray = per_row("N K", kernel=False)  # salience of each issue
    w_alignment: np.ndarray = per_row("N", actor="weights.alignment")
    w_reciprocity: np.ndarray = per_row("N", actor="weights.reciprocity")
    w_trust: np.ndarray = per_row("N", actor="weights.trust")
    w_autonomy: np.ndarray = per_row("N", kernel=False, actor="weights.autonomy")
    stance: np.ndarray = per_row("N A N")  # stance each action takes toward each actor
    effect: np.ndarray = per_row("N A K", kernel=False)  # what each action does on each issue
    push: np.ndarray = per_row("N A K")  # how each action pushes each issue's stakes
    bias: np.ndarray = per_row("N A")  # declared policy commitment
    available: np.ndarray = per_row("N A")  # 1.0 where an action may be chosen (regimes change it)
    inertia: np.ndarray = per_row("N", actor="inertia")  # utility cost of changing policy
    stake_base: np.ndarray = per_row("K")
    persistence: np.ndarray = per_row("K")
    align0: np.ndarray = per_row("N N")
    fav0: np.ndarray = per_row("N N")
    unfav0: np.ndarray = per_row("N N")
    rate: np.ndarray = per_row("")
    overlap: np.ndarray = per_row("", kernel=False)
    balance: np.ndarray = per_row("", kernel=False)
    action: np.ndarray = per_row("", kernel=False)
    trust: np.ndarray = per_row("", kernel=False)
    evidence: np.ndarray = per_row("")
    atmosphere: np.ndarray = per_row("")
    deal_open: np.ndarray = per_row("D", np.int64)  # months an offer stays on the table
    deal_binds: np.ndarray = per_row("D", np.int64)  # months a taken deal binds
    deal_exit: np.ndarray = per_row("D")  # utility cost of leaving a deal while bound
    deal_shock: np.ndarray = per_row("D")  # the victim's unfavourable evidence when taken
    ev_month: np.ndarray = per_row("E", np.int64)
    ev_hazard: np.ndarray = per_row("E")
    ev_start: np.ndarray = per_row("E", np.int64)
    ev_end: np.ndarray = per_row("E", np.int64)
    ev_align: np.ndarray = per_row("E N N")
    ev_stakes: np.ndarray = per_row("E K")
    rg_month: np.ndarray = per_row("G", np.int64, kernel=False)  # month each regime starts
    rg_value: np.ndarray = per_row("C", kernel=False)  # each change's value (set to, shift by)
    locate: Mapping[str, tuple[str, tuple[tuple[int, ...], ...]]] = field(repr=False)

    @cached_property
    def derived(self) -> Derived:
        """Constant arrays the rules need every month, computed once per parameter set."""
        return derive(self)

    def outcome_index(self, kind: str) -> OutcomeSpec | None:
        """The first declared outcome of ``kind``, or None."""
        return next((o for o in self.outcome_specs if o.kind == kind), None)

    @property
    def pair(self) -> tuple[int, int] | None:
        """Actor indices of the first declared partnership outcome."""
        o = self.outcome_index("partnership")
        return None if o is None else tuple(self.actors.index(a) for a in o.fields["actors"])

    @property
    def betrayal(self) -> tuple[int, int, int] | None:
        """(actor, action, victim) indices of the first declared defection outcome."""
        o = self.outcome_index("defection")
        if o is None:
            return None
        i = self.actors.index(o.fields["actor"])
        return i, self.actions[i].index(o.fields["action"]), self.actors.index(o.fields["victim"])

    def at_month(self, month: int) -> Params:
        """These parameters with every regime change that starts in ``month`` applied.

        Rows whose regime starts this month change; others keep their values (a sweep may
        vary a regime's month per row). Returns ``self`` when nothing starts, so the common
        month costs one comparison.
        """
        starting = self.rg_month == month  # (P, G)
        if not self.changes or not starting.any():
            return self
        updated: dict[str, np.ndarray] = {}
        for c, ch in enumerate(self.changes):
            mask = starting[:, ch.regime]
            if not mask.any():
                continue
            arr = updated.get(ch.field)
            if arr is None:
                arr = getattr(self, ch.field)
                # The month, the value and the field may each be shared or per row.
                rows = max(arr.shape[0], len(mask), self.rg_value.shape[0])
                arr = np.repeat(arr, rows, axis=0) if arr.shape[0] < rows else arr.copy()
                updated[ch.field] = arr
            rows_hit = np.flatnonzero(np.broadcast_to(mask, (arr.shape[0],)))
            v = np.broadcast_to(self.rg_value[:, c], (arr.shape[0],))[rows_hit]
            for cell in ch.cells:
                index = (rows_hit, *cell)
                arr[index] = v if ch.op == "set" else arr[index] + v
        return replace(self, **updated)

    @property
    def rows(self) -> int:
        """Length of the leading row axis (1 when every array is shared by all replicates)."""
        return max(int(getattr(self, f).shape[0]) for f in ROW_FIELDS)

    def take(self, rows: np.ndarray) -> Params:
        """Params for a subset (or repetition) of rows; shared (1-row) arrays stay shared."""
        if self.rows == 1:
            return self
        return replace(
            self,
            **{f: getattr(self, f)[rows] for f in ROW_FIELDS if getattr(self, f).shape[0] > 1},
        )

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


PARAMETERS = tuple(f for f in fields(Params) if "dims" in f.metadata)
"""The parameter table: the array fields of `Params` with their declarations."""
ROW_FIELDS = tuple(f.name for f in PARAMETERS if f.metadata["per_row"])
"""Fields that hold numbers per row (leading axis 1 or R); the others are shared structure."""
ACTOR_FIELDS = tuple(f for f in PARAMETERS if f.metadata["actor"])
"""Per-actor numbers read from each actor's scenario entry by `compile_params`."""


@dataclass(frozen=True)
class Derived:
    """Products of parameters that do not change during a run (leading row axis 1 or R): the
    kernel's precomputed tables (`sim.model.layout.pack`) and the drift's shares and weights.
    """

    issue_weight: np.ndarray  # (P, N, A, K): salience x position x action effect
    overlap_num: np.ndarray  # (P, N*N, K): sqrt(sal_i sal_j) (1 - |pos_i - pos_j|)
    overlap_den: np.ndarray  # (P, N*N, K): sqrt(sal_i sal_j)
    stance_commit: np.ndarray  # (P, N, A, 2N): 2 x stance, then max(stance, 0)
    dependence: np.ndarray  # (P, N, A): w_autonomy x sum_j max(stance, 0)^2
    extremity: np.ndarray  # (P, N, A): (w_alignment + w_reciprocity) x sum_j stance^2
    cap_share: np.ndarray  # (P, N, N): cap_i / (cap_i + cap_j)
    weights: np.ndarray  # (P, 4): overlap, balance, action, trust, normalised to sum 1


def derive(p: Params) -> Derived:
    """Compute the `Derived` arrays of a parameter set."""
    n, k = p.pos.shape[1], p.pos.shape[2]
    root = np.sqrt(p.sal[:, :, None, :] * p.sal[:, None, :, :])
    agree = 1.0 - np.abs(p.pos[:, :, None, :] - p.pos[:, None, :, :])
    # Any of the four weights may vary per row while the others stay shared.
    pulls = np.broadcast_arrays(p.overlap, p.balance, p.action, p.trust)
    w = np.stack(pulls, axis=1).astype(np.float64)
    total = w.sum(axis=1, keepdims=True)
    return Derived(
        issue_weight=(p.sal * p.pos)[:, :, None, :] * p.effect,
        overlap_num=(root * agree).reshape(-1, n * n, k),
        overlap_den=root.reshape(-1, n * n, k),
        stance_commit=np.concatenate([2.0 * p.stance, np.maximum(p.stance, 0.0)], axis=-1),
        dependence=p.w_autonomy[:, :, None] * (np.maximum(p.stance, 0.0) ** 2).sum(axis=-1),
        extremity=(p.w_alignment + p.w_reciprocity)[:, :, None] * (p.stance**2).sum(axis=-1),
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

    per_actor = {f.name: np.zeros(n) for f in ACTOR_FIELDS}
    pos, sal = np.zeros((n, k)), np.zeros((n, k))
    stance = np.zeros((n, amax, n))
    effect, push = np.zeros((n, amax, k)), np.zeros((n, amax, k))
    bias = np.zeros((n, amax))
    available = np.zeros((n, amax))
    policy0 = np.full(n, -1, dtype=np.int64)
    valid = np.zeros((n, amax), dtype=bool)
    deal_ids = tuple(d.id for d in scenario.deals)
    act_offer = np.zeros((n, amax, len(deal_ids)), dtype=bool)
    for i, actor in enumerate(scenario.actors):
        p = f"actors.{actor.id}"
        for f in ACTOR_FIELDS:
            per_actor[f.name][i] = _actor_number(actor, f.metadata["actor"])
            put(f"{p}.{f.metadata['actor']}", f.name, (i,))
        if actor.policy is not None:
            policy0[i] = [a.id for a in actor.actions].index(actor.policy)
        for iss, v in actor.position.items():
            pos[i, ki[iss]] = v
            put(f"{p}.position.{iss}", "pos", (i, ki[iss]))
        for iss, v in actor.salience.items():
            sal[i, ki[iss]] = v
            put(f"{p}.salience.{iss}", "sal", (i, ki[iss]))
        for a, act in enumerate(actor.actions):
            valid[i, a] = True
            q = f"{p}.actions.{act.id}"
            bias[i, a] = act.bias
            available[i, a] = float(act.available)
            put(f"{q}.bias", "bias", (i, a))
            put(f"{q}.available", "available", (i, a))
            if act.offers is not None:
                act_offer[i, a, deal_ids.index(act.offers)] = True
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

    dyn = dict(scenario.dynamics)
    for key in dyn:
        put(f"dynamics.{key}", key, ())
    d = len(deal_ids)
    deal_num = {k: np.zeros(d) for k in ("open_months", "binds", "exit_cost", "trust_shock")}
    fields = {
        "open_months": "deal_open",
        "binds": "deal_binds",
        "exit_cost": "deal_exit",
        "trust_shock": "deal_shock",
    }
    for x, deal in enumerate(scenario.deals):
        for key, fname in fields.items():
            deal_num[key][x] = getattr(deal, key)
            put(f"deals.{deal.id}.{key}", fname, (x,))

    ev_month = np.full(e, -1, dtype=np.int64)
    ev_hazard, ev_start = np.zeros(e), np.zeros(e, dtype=np.int64)
    ev_end = np.full(e, NO_END, dtype=np.int64)
    ev_align, ev_stakes = np.zeros((e, n, n)), np.zeros((e, k))
    ev_offer = np.zeros((e, d), dtype=bool)
    for x, ev in enumerate(events):
        if ev.offers is not None:
            ev_offer[x, deal_ids.index(ev.offers)] = True
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

    action_ids = tuple(tuple(a.id for a in actor.actions) for actor in scenario.actors)
    changes, change_values = [], []
    rg_month = np.zeros(len(scenario.regimes), dtype=np.int64)
    for g, reg in enumerate(scenario.regimes):
        rg_month[g] = reg.month
        put(f"regimes.{reg.id}.month", "rg_month", (g,))
        for ch in reg.changes:
            fname, cells = loc[ch.target]
            put(f"regimes.{reg.id}.{ch.op}.{ch.target}", "rg_value", (len(changes),))
            changes.append(FieldChange(g, ch.target, fname, cells, ch.op))
            change_values.append(ch.value)

    rows = {
        **per_actor,
        **dyn,
        **{fname: deal_num[key] for key, fname in fields.items()},
        "pos": pos,
        "sal": sal,
        "stance": stance,
        "effect": effect,
        "push": push,
        "bias": bias,
        "available": available,
        "stake_base": stake_base,
        "persistence": persistence,
        "align0": align0,
        "fav0": fav0,
        "unfav0": unfav0,
        "ev_month": ev_month,
        "ev_hazard": ev_hazard,
        "ev_start": ev_start,
        "ev_end": ev_end,
        "ev_align": ev_align,
        "ev_stakes": ev_stakes,
        "rg_month": rg_month,
        "rg_value": change_values,
        "valid": valid,
        "policy0": policy0,
        "deal_actor": [ai[x.actor] for x in scenario.deals],
        "deal_action": [action_ids[ai[x.actor]].index(x.action) for x in scenario.deals],
        "deal_victim": [ai[x.victim] for x in scenario.deals],
        "ev_offer": ev_offer,
        "act_offer": act_offer,
    }
    return Params(
        actors=actors,
        issues=issues,
        actions=action_ids,
        events=tuple(ev.id for ev in events),
        months=scenario.months,
        start=scenario.start,
        deals=deal_ids,
        regimes=tuple(r.id for r in scenario.regimes),
        changes=tuple(changes),
        outcome_specs=scenario.outcomes,
        # Each array in its declared dtype; per-row numbers get their shared row axis.
        **{
            f.name: np.asarray(rows[f.name], dtype=f.metadata["dtype"])[
                (None,) if f.metadata["per_row"] else ()
            ]
            for f in PARAMETERS
        },
        locate=loc,
    )


def _actor_number(actor: Any, source: str) -> float:
    """The value of an actor's scenario attribute named by ``source`` ("weights.trust" reads
    a key of a mapping attribute).
    """
    head, _, key = source.partition(".")
    value = getattr(actor, head)
    return value[key] if key else value
