"""Naive forecasters of a pair's distance h sessions ahead, from the pair's own history.

Each takes the distances up to the origin, ``history`` (Y, P): Y sessions in order (the last is
the origin), P pairs, and returns draws per pair (a list of P 1-D arrays):

- `persistence`: the last distance plus every observed h-session change (the pair's own, or
  ``pooled`` over all pairs): the empirical spread of change;
- `drift`: a random walk with drift, normal with the mean and variance of the pair's
  one-session changes times h;
- `window_mean`: the mean of the last ``years`` sessions plus every earlier error of that same
  forecast at horizon h, pooled over pairs.

Normal draws are evenly spaced quantiles (no random numbers): the same history gives the same
forecast.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri


def normal_draws(n: int) -> np.ndarray:
    """``n`` evenly spaced standard normal quantiles, (k + 0.5) / n."""
    return ndtri((np.arange(n) + 0.5) / n)


def _changes(history: np.ndarray, h: int) -> np.ndarray:
    """Observed h-session changes (Y - h, P)."""
    return history[h:] - history[:-h]


def persistence(history: np.ndarray, h: int, pooled: bool) -> list[np.ndarray]:
    """Last distance plus the empirical h-session changes (per pair, or pooled)."""
    ch = _changes(history, h)
    pool = ch[np.isfinite(ch)]
    out = []
    for p in range(history.shape[1]):
        own = ch[:, p][np.isfinite(ch[:, p])]
        out.append(history[-1, p] + (pool if pooled else own))
    return out


def drift(history: np.ndarray, h: int, samples: int) -> list[np.ndarray]:
    """Random walk with drift: Normal(last + h * mean, h * var) of one-session changes."""
    ch = _changes(history, 1)
    z = normal_draws(samples)
    out = []
    for p in range(history.shape[1]):
        c = ch[:, p][np.isfinite(ch[:, p])]
        out.append(history[-1, p] + h * c.mean() + np.sqrt(h) * c.std(ddof=1) * z)
    return out


def window_mean(history: np.ndarray, h: int, years: int) -> list[np.ndarray]:
    """Mean of the last ``years`` sessions plus that forecast's earlier errors, pooled."""
    y = history.shape[0]
    means = np.array([history[t - years + 1 : t + 1].mean(axis=0) for t in range(years - 1, y)])
    # means[k] is the forecast made at session k + years - 1; its target is h sessions later.
    errors = history[years - 1 + h :] - means[: len(means) - h]
    pool = errors[np.isfinite(errors)]
    return [means[-1, p] + pool for p in range(history.shape[1])]
