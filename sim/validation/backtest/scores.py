"""Proper scoring rules and paired bootstrap intervals, the way forecasters are scored.

Binary events are scored by the Brier score and the logarithmic score, numeric ones by the
continuous ranked probability score (CRPS); all three are negatively oriented (lower is
better) and come from the `scoringrules` library. Probabilities are clipped to
[`EPS`, 1 - `EPS`] for the log score only, for every forecaster alike, so that one confident
miss costs -log(EPS) instead of infinity.
"""

from __future__ import annotations

import numpy as np
import scoringrules as sr

EPS = 0.01
BOOTSTRAP_DRAWS = 10_000
_BOOT_SALT = 0xB007


def brier(observed: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Brier score (p - y)^2 of probabilities ``p`` for outcomes ``observed`` (0/1)."""
    return np.asarray(sr.brier_score(np.asarray(observed, float), np.asarray(p, float)))


def log_score(observed: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Logarithmic score -log(p) if the event happened, -log(1 - p) if not (p clipped)."""
    q = np.clip(np.asarray(p, float), EPS, 1.0 - EPS)
    return np.asarray(sr.log_score(np.asarray(observed, float), q))


def crps_ensemble(observed: float, members: np.ndarray, weights: np.ndarray | None = None) -> float:
    """CRPS of a weighted ensemble forecast (the empirical distribution of ``members``)."""
    members = np.asarray(members, float)
    w = None if weights is None else np.asarray(weights, float)
    return float(sr.crps_ensemble(float(observed), members, ens_w=w, estimator="nrg"))


def crps_binomial(observed: float, n: int, p: float) -> float:
    """CRPS of a Binomial(n, p) forecast of a count: each of n months independently with p."""
    return float(sr.crps_binomial(float(observed), int(n), float(p)))


def crps_point(observed: float, value: float) -> float:
    """CRPS of a point forecast: the absolute error."""
    return abs(float(observed) - float(value))


def paired_bootstrap(
    diff: np.ndarray, seed: int, draws: int = BOOTSTRAP_DRAWS
) -> tuple[float, float, float]:
    """Mean of paired score differences over events with a 95% percentile bootstrap interval.

    Events are resampled with replacement (the pairing keeps each event's two scores
    together). Returns (mean, low, high); NaNs for no events.
    """
    diff = np.asarray(diff, float)
    if len(diff) == 0:
        return (float("nan"),) * 3
    gen = np.random.default_rng(np.random.SeedSequence([seed, _BOOT_SALT]))
    means = diff[gen.integers(0, len(diff), (draws, len(diff)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(diff.mean()), float(low), float(high)
