"""Scores of forecasts given as draws: CRPS, interval coverage, PIT, and paired differences.

CRPS is that of the draws' empirical distribution (scoringrules' ``nrg`` estimator:
mean |X - y| - mean |X - X'| / 2). Paired differences of two forecasters' CRPS on the same
forecasts get a 90% interval from a moving-block bootstrap over origins (arch): forecasts from
nearby origins share targets and the six pairs share positions, so whole origins are resampled
in blocks rather than single forecasts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scoringrules as sr
from arch.bootstrap import MovingBlockBootstrap


def crps(draws: np.ndarray, observed: float) -> float:
    """CRPS of the draws' empirical distribution at ``observed`` (lower is better)."""
    return float(sr.crps_ensemble(observed, np.asarray(draws, dtype=float), estimator="nrg"))


def covered(draws: np.ndarray, observed: float, level: float) -> bool:
    """Whether ``observed`` lies in the draws' central ``level`` interval."""
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return bool(lo <= observed <= hi)


def pit(draws: np.ndarray, observed: float) -> float:
    """Probability integral transform: the draws' share below ``observed`` (ties count half)."""
    d = np.asarray(draws)
    return float((d < observed).mean() + 0.5 * (d == observed).mean())


def pit_histogram(values: Sequence[float], bins: int) -> np.ndarray:
    """Share of PIT values in each of ``bins`` equal bins of [0, 1] (flat when calibrated)."""
    counts, _ = np.histogram(np.asarray(values, dtype=float), bins=bins, range=(0.0, 1.0))
    return counts / max(1, counts.sum())


def paired(
    table: pd.DataFrame, name: str, reference: str, block: int, replicates: int, seed: int
) -> dict[str, float]:
    """Mean CRPS difference ``name`` minus ``reference`` over the forecasts both scored, with a
    90% moving-block bootstrap interval over origins (negative: ``name`` is better).
    """
    keys = ["origin", "horizon", "pair"]
    a = table[table.forecaster == name].set_index(keys).crps
    b = table[table.forecaster == reference].set_index(keys).crps
    diff = (a - b).dropna()
    if diff.empty:
        return {"n": 0, "mean": np.nan, "low": np.nan, "high": np.nan, "origins": 0}
    by_origin = diff.groupby(level="origin")
    sums = by_origin.sum().to_numpy()
    counts = by_origin.size().to_numpy()

    def mean(s: np.ndarray, c: np.ndarray) -> float:
        return s.sum() / c.sum()

    low = high = np.nan
    if len(sums) > block:
        bs = MovingBlockBootstrap(block, sums, counts, seed=np.random.default_rng(seed))
        ci = bs.conf_int(mean, reps=replicates, method="percentile", size=0.9)
        low, high = float(ci[0, 0]), float(ci[1, 0])
    return {
        "n": int(counts.sum()),
        "mean": float(diff.mean()),
        "low": low,
        "high": high,
        "origins": len(sums),
    }
