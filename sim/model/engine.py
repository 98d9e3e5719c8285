"""The array engine: runs the rules for many replicates at once.

A run is identified by its stream key (see `sim.rng`); the engine steps all rows together
through `sim.model.rules.step`, so its speed comes from numpy, not from a loop over agents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rng, rules
from sim.model.params import Params


@dataclass(frozen=True)
class Trajectory:
    """What the engine records per run and month.

    ``alignment`` is (R, T + 1, P) float32 over the upper-triangle pairs (month 0 is the
    initial state); ``actions`` (R, T, N) int8 and ``fired`` (R, T, E) bool cover months 1..T.
    """

    pairs: tuple[tuple[int, int], ...]
    alignment: np.ndarray
    actions: np.ndarray
    fired: np.ndarray

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
    n, e = len(params.actors), len(params.events)
    pairs = pair_index(n)
    iu, ju = np.array([p[0] for p in pairs], int), np.array([p[1] for p in pairs], int)
    align = np.empty((r, months + 1, len(pairs)), dtype=np.float32)
    actions = np.empty((r, months, n), dtype=np.int8)
    fired = np.empty((r, months, e), dtype=bool)
    state = rules.initial_state(params, r)
    align[:, 0] = state.alignment[:, iu, ju]
    for t in range(months):
        u = rng.uniforms(keys, t, e + n)
        state, fired[:, t], actions[:, t] = rules.step(state, params, u)
        align[:, t + 1] = state.alignment[:, iu, ju]
    return Trajectory(pairs=pairs, alignment=align, actions=actions, fired=fired)
