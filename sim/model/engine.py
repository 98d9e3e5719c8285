"""The array engine: runs the rules for many replicates at once.

A run is identified by its stream key (see `sim.model.rng`). `simulate` runs the compiled
kernel (`sim.model.kernel.run`): a loop over replicates and months in machine code, the same
per-replicate functions the Mesa model calls. Regime changes are applied between months in
Python (`Params.at_month`), which cuts the horizon into a few segments, each one kernel call.

`simulate_numpy` steps all replicates together through the numpy rules (`sim.model.rules`):
the reference the kernel is checked and benchmarked against. `steps` runs the kernel month by
month for explanations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from sim.model import kernel, layout, rng, rules
from sim.model.params import Params


@dataclass(frozen=True)
class Trajectory:
    """What the engine records per run and month.

    ``alignment`` is (R, T + 1, P) float32 over the upper-triangle pairs (month 0 is the
    initial state); ``actions`` (R, T, N) int8, ``fired`` (R, T, E) bool and ``offers``
    (R, T, D) bool (a deal's offer on the table when the month's choices were made) cover
    months 1..T. ``start`` is the calendar month of month 1.
    """

    pairs: tuple[tuple[int, int], ...]
    alignment: np.ndarray
    actions: np.ndarray
    fired: np.ndarray
    offers: np.ndarray
    start: str = ""

    def subset(self, rows: np.ndarray) -> Trajectory:
        """The trajectories of some runs (a boolean mask or indices over the run axis)."""
        return replace(
            self,
            alignment=self.alignment[rows],
            actions=self.actions[rows],
            fired=self.fired[rows],
            offers=self.offers[rows],
        )

    @property
    def months(self) -> int:
        """Number of simulated months."""
        return int(self.actions.shape[1])

    def pair_series(self, i: int, j: int) -> np.ndarray:
        """Alignment of actors i and j over months 0..T, (R, T + 1)."""
        a, b = min(i, j), max(i, j)
        return self.alignment[:, :, self.pairs.index((a, b))]


def pair_index(n: int) -> tuple[tuple[int, int], ...]:
    """Upper-triangle actor pairs in the order the trajectory stores them."""
    return tuple((i, j) for i in range(n) for j in range(i + 1, n))


@dataclass(frozen=True)
class Month:
    """One simulated month as the engine ran it, for explanations (`steps`).

    ``params`` are the parameters in force (regimes applied); ``state`` is the world after the
    month's events and before the choices, which is what the actors weighed; ``utility`` their
    expected utility of each action (R, N, Amax; -inf: impossible) and ``weights`` their logit
    choice weights, as the kernel computed them; ``chosen`` (R, N) the actions drawn, ``fired``
    (R, E) the events and ``after`` the state the month's choices led to.
    """

    month: int
    params: Params
    state: rules.State
    fired: np.ndarray
    utility: np.ndarray
    weights: np.ndarray
    chosen: np.ndarray
    after: rules.State


def steps(params: Params, keys: np.ndarray, months: int | None = None) -> Iterator[Month]:
    """Run ``len(keys)`` replicates month by month, yielding each `Month` as it is simulated.

    Each month is run by the kernel exactly as `simulate` runs it (so the months are the
    engine's own); beside it, the kernel weighs a copy of the state after the month's events,
    which is what the actors saw.
    """
    months = params.months if months is None else int(months)
    r, n, e = len(keys), len(params.actors), len(params.events)
    buf = kernel.start_buffers(params, r)
    padded = _padded(np.ascontiguousarray(keys, dtype=np.uint64), r)
    for t in range(months):
        params = params.at_month(t + 1)  # regime changes from this month on
        before = layout.state_of(buf, t, r)
        side = layout.buffers(before)
        u = rng.uniforms(keys, t, e + n)
        fired, weights, utility = kernel.prepare_buffers(side, params, t + 1, u[:, :e])
        out = kernel.record(params, r)
        kernel.run(buf, params, padded, t, t + 1, out, offset=t)
        after = layout.state_of(buf, t + 1, r)
        weighed = layout.state_of(side, t, r)
        chosen = out.actions[:, 0].astype(np.int64)
        yield Month(t + 1, params, weighed, fired, utility, weights, chosen, after)


def _padded(keys: np.ndarray, r: int) -> np.ndarray:
    """Stream keys padded to whole kernel blocks with copies of the last (not recorded)."""
    return keys[np.minimum(np.arange(layout.blocks(r) * layout.width(r)), r - 1)]


BATCH = 8192  # replicates per kernel call: bounds the per-replicate copies of the parameters


def simulate(params: Params, keys: np.ndarray, months: int | None = None) -> Trajectory:
    """Run ``len(keys)`` replicates for ``months`` (default: the scenario's horizon).

    ``params`` has one shared row or one row per key.
    """
    months = params.months if months is None else int(months)
    r = len(keys)
    traj = _empty(params, r, months)
    iu, ju = (np.array(side, np.int64) for side in zip(*traj.pairs, strict=True))
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    for lo in range(0, r, BATCH):
        rows = slice(lo, min(lo + BATCH, r))
        out = (traj.alignment[rows], traj.actions[rows], traj.fired[rows], traj.offers[rows])
        _simulate_batch(params.take(np.arange(r)[rows]), keys[rows], months, iu, ju, *out)
    return traj


def _empty(params: Params, replicates: int, months: int) -> Trajectory:
    """A trajectory of ``replicates`` runs and ``months`` months, to be filled in."""
    n, e, d = len(params.actors), len(params.events), len(params.deals)
    pairs = pair_index(n)
    return Trajectory(
        pairs=pairs,
        alignment=np.empty((replicates, months + 1, len(pairs)), dtype=np.float32),
        actions=np.empty((replicates, months, n), dtype=np.int8),
        fired=np.empty((replicates, months, e), dtype=bool),
        offers=np.empty((replicates, months, d), dtype=bool),
        start=params.start,
    )


def _simulate_batch(params, keys, months, iu, ju, align, actions, fired, offers) -> None:
    """Run one batch of replicates through the kernel, into the output views."""
    r = len(keys)
    state = kernel.start_buffers(params, r)
    align[:, 0] = layout.unblocked(state.alignment[:, iu, ju], r)
    padded = _padded(keys, r)
    out = kernel.run_record(align, actions, fired, offers)
    first = 0
    for last in segments(params, months):
        params = params.at_month(first + 1)  # regime changes from this month on
        kernel.run(state, params, padded, first, last, out)
        first = last


def segments(params: Params, months: int) -> list[int]:
    """Ends of the stretches of months with the same parameters: a new stretch starts in each
    month in which some row's regime starts (month 1 always starts the first).
    """
    starts = {int(m) for m in np.unique(params.rg_month) if 1 < m <= months}
    return [m - 1 for m in sorted(starts)] + [months]


def simulate_numpy(params: Params, keys: np.ndarray, months: int | None = None) -> Trajectory:
    """`simulate` through the numpy rules, all replicates stepped together: the reference."""
    months = params.months if months is None else int(months)
    r, n, e = len(keys), len(params.actors), len(params.events)
    traj = _empty(params, r, months)
    iu, ju = (np.array(side, int) for side in zip(*traj.pairs, strict=True))
    state = rules.initial_state(params, r)
    traj.alignment[:, 0] = state.alignment[:, iu, ju]
    for t in range(months):
        params = params.at_month(t + 1)  # regime changes from this month on
        u = rng.uniforms(keys, t, e + n)
        weighed, fired, weights = rules.prepare(state, params, u[:, :e])
        chosen = rules.choose(weights, u[:, e:])
        state, _ = rules.transition(weighed, params, chosen)
        traj.fired[:, t] = fired
        traj.offers[:, t] = weighed.offer_left > 0
        traj.actions[:, t] = chosen
        traj.alignment[:, t + 1] = state.alignment[:, iu, ju]
    return traj
