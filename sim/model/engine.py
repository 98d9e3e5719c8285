"""The array engine: runs the rules for many replicates at once.

A run is identified by its stream key (see `sim.rng`); the engine steps all rows together
through `sim.model.rules.step`, so its speed comes from numpy, not from a loop over agents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from sim.model import rng, rules
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
    month's events and before the choices, which is what the actors weighed; ``weights`` are
    their logit choice weights, ``chosen`` (R, N) the actions drawn, ``fired`` (R, E) the
    events and ``after`` the state the month's choices led to.
    """

    month: int
    params: Params
    state: rules.State
    fired: np.ndarray
    weights: np.ndarray
    chosen: np.ndarray
    after: rules.State


def steps(
    params: Params,
    keys: np.ndarray,
    months: int | None = None,
    initial: rules.State | None = None,
) -> Iterator[Month]:
    """Run ``len(keys)`` replicates month by month, yielding each `Month` as it is simulated.

    `simulate` records what this yields, so an explanation that reads these months sees
    exactly the states behind the engine's results. ``initial`` is the month-0 state
    (default `rules.initial_state`).
    """
    months = params.months if months is None else int(months)
    n, e = len(params.actors), len(params.events)
    state = rules.initial_state(params, len(keys)) if initial is None else initial
    for t in range(months):
        params = params.at_month(t + 1)  # regime changes from this month on
        u = rng.uniforms(keys, t, e + n)
        weighed, fired, weights = rules.prepare(state, params, u[:, :e])
        chosen = rules.choose(weights, u[:, e:])
        state, _ = rules.transition(weighed, params, chosen)
        yield Month(t + 1, params, weighed, fired, weights, chosen, state)


def simulate(params: Params, keys: np.ndarray, months: int | None = None) -> Trajectory:
    """Run ``len(keys)`` replicates for ``months`` (default: the scenario's horizon).

    ``params`` has one shared row or one row per key.
    """
    months = params.months if months is None else int(months)
    r = len(keys)
    n, e, d = len(params.actors), len(params.events), len(params.deals)
    pairs = pair_index(n)
    iu, ju = np.array([p[0] for p in pairs], int), np.array([p[1] for p in pairs], int)
    align = np.empty((r, months + 1, len(pairs)), dtype=np.float32)
    actions = np.empty((r, months, n), dtype=np.int8)
    fired = np.empty((r, months, e), dtype=bool)
    offers = np.empty((r, months, d), dtype=bool)
    initial = rules.initial_state(params, r)
    align[:, 0] = initial.alignment[:, iu, ju]
    for step in steps(params, keys, months, initial):
        t = step.month - 1
        fired[:, t] = step.fired
        offers[:, t] = step.state.offer_left > 0
        actions[:, t] = step.chosen
        align[:, t + 1] = step.after.alignment[:, iu, ju]
    return Trajectory(
        pairs=pairs,
        alignment=align,
        actions=actions,
        fired=fired,
        offers=offers,
        start=params.start,
    )
