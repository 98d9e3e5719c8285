"""Posterior predictive checks: what the calibrated model expects the observations to be.

Draws parameter sets from a weighted posterior, simulates one world per draw (on streams apart
from the calibration's) through the measurement model, error term included, and compares the
observed points with the predictive bands: a calibrated model should put about half of the
observations inside its 50% bands and nine in ten inside its 90% bands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model import rng
from sim.validation.calibration.problem import Problem

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
STREAM = 0x9EED  # the 'point' index of the draws, apart from the calibration's
FIRST_ID = 2**40  # evaluation ids of predictive worlds, beyond any calibration's


def resample(weights: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Indices of ``draws`` particles drawn by weight on counter-based streams of ``seed``."""
    keys = rng.run_keys(seed, np.full(draws, STREAM), np.arange(draws))
    u = rng.uniforms(keys, 0, 1)[:, 0]
    cdf = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def simulate(problem: Problem, posterior: pd.DataFrame, draws: int, seed: int) -> np.ndarray:
    """Predicted observations (draws, P, Y) from the posterior (columns ``problem.names``)."""
    idx = resample(posterior["weight"].to_numpy(), draws, seed)
    theta = posterior[list(problem.names)].to_numpy(dtype=float)[idx]
    return problem.distances(theta, FIRST_ID + np.arange(draws, dtype=np.int64))


def bands(problem: Problem, predicted: np.ndarray) -> pd.DataFrame:
    """Quantiles of the predicted observations beside the observed points.

    One row per pair and observed year: q05..q95, the observed distance and its measurement
    sd, and whether the observation lies inside the 50% and the 90% band.
    """
    obs = problem.observed
    q = np.quantile(predicted, QUANTILES, axis=0)  # (5, P, Y)
    rows = []
    for p, (a, b) in enumerate(obs.pairs):
        for k, year in enumerate(obs.years):
            rec = {"pair": f"{a}-{b}", "year": year}
            rec.update(
                {f"q{round(x * 100):02d}": float(q[i, p, k]) for i, x in enumerate(QUANTILES)}
            )
            rec.update(observed=float(obs.distance[p, k]), sd=float(obs.sd[p, k]))
            rows.append(rec)
    table = pd.DataFrame(rows)
    table["inside50"] = table.observed.between(table.q25, table.q75)
    table["inside90"] = table.observed.between(table.q05, table.q95)
    return table


def coverage(table: pd.DataFrame) -> dict[str, float]:
    """Share of observations inside the 50% and the 90% predictive bands."""
    return {"50%": float(table.inside50.mean()), "90%": float(table.inside90.mean())}
