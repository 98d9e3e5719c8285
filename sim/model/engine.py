"""The array engine: runs the rules for many replicates at once.

A run is identified by its stream key (see `sim.rng`); the engine steps all rows together
through `sim.model.rules.step`, so its speed comes from numpy, not from a loop over agents.
"""

from __future__ import annotations

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
    state = rules.initial_state(params, r)
    align[:, 0] = state.alignment[:, iu, ju]
    for t in range(months):
        params = params.at_month(t + 1)  # regime changes from this month on
        u = rng.uniforms(keys, t, e + n)
        state, fired[:, t], weights = rules.prepare(state, params, u[:, :e])
        offers[:, t] = state.offer_left > 0
        chosen = rules.choose(weights, u[:, e:])
        state, _ = rules.transition(state, params, chosen)
        actions[:, t] = chosen
        align[:, t + 1] = state.alignment[:, iu, ju]
    return Trajectory(
        pairs=pairs,
        alignment=align,
        actions=actions,
        fired=fired,
        offers=offers,
        start=params.start,
    )
