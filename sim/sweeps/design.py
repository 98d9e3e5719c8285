"""Designs: turn swept parameters into a table of points (one row per parameter set).

- ``grid``: full factorial, ``levels`` evenly spaced values per parameter (levels ** D points).
- ``lhs``: Latin hypercube of ``n`` points (scipy.stats.qmc, seeded).
- ``sobol``: Saltelli sampling for Sobol indices (``SALib.sample.sobol.sample``), N (D + 2) points
  or N (2 D + 2) with second-order indices.
- ``morris``: Morris elementary-effects trajectories (``SALib.sample.morris.sample``), N (D + 1).

Integer parameters (event months, run lengths) are rounded to the nearest integer. All designs
are pure functions of their arguments: the same seed gives the same points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # annotations only: experiment.py imports this module to size designs
    from sim.sweeps.experiment import Experiment, Parameter


def size(method: str, parameters: int, points: int, levels: int, second_order: bool) -> int:
    """How many points a design makes, computed without sampling (to refuse huge designs)."""
    if method == "grid":
        return levels**parameters
    if method == "sobol":
        return points * ((2 * parameters + 2) if second_order else (parameters + 2))
    if method == "morris":
        return points * (parameters + 1)
    return points  # lhs


def problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """The SALib problem dict of the parameters."""
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [[p.low, p.high] for p in parameters],
    }


def grid(parameters: Sequence[Parameter], levels: int) -> np.ndarray:
    """Full factorial over ``levels`` evenly spaced values per parameter (last varies fastest)."""
    axes = [np.linspace(p.low, p.high, levels) for p in parameters]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)


def lhs(parameters: Sequence[Parameter], n: int, seed: int) -> np.ndarray:
    """A Latin hypercube of ``n`` points scaled to the parameter ranges."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(parameters), rng=np.random.default_rng(seed)).random(n)
    low = np.array([p.low for p in parameters])
    high = np.array([p.high for p in parameters])
    return low + unit * (high - low)


def sobol(parameters: Sequence[Parameter], n: int, seed: int, second_order: bool) -> np.ndarray:
    """Saltelli's extension of the Sobol sequence (SALib), base sample size ``n``."""
    from SALib.sample import sobol as sobol_sample

    return sobol_sample.sample(problem(parameters), n, calc_second_order=second_order, seed=seed)


def morris(parameters: Sequence[Parameter], n: int, levels: int, seed: int) -> np.ndarray:
    """``n`` Morris trajectories on a ``levels``-level grid (SALib)."""
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem(parameters), n, num_levels=levels, seed=seed)


def round_integers(values: np.ndarray, parameters: Sequence[Parameter]) -> np.ndarray:
    """Round the columns of integer parameters (half to even, as numpy does)."""
    out = np.array(values, dtype=np.float64, copy=True)
    for k, p in enumerate(parameters):
        if p.integer:
            out[:, k] = np.rint(out[:, k])
    return out


def sample(exp: Experiment) -> np.ndarray:
    """The experiment's points, (P, D) float64 in parameter units, integers rounded."""
    params = exp.parameters
    if exp.design == "grid":
        values = grid(params, exp.levels)
    elif exp.design == "lhs":
        values = lhs(params, exp.points, exp.seed)
    elif exp.design == "sobol":
        values = sobol(params, exp.points, exp.seed, exp.second_order)
    elif exp.design == "morris":
        values = morris(params, exp.points, exp.levels, exp.seed)
    else:  # validated in sim.experiment
        raise ValueError(f"unknown design {exp.design!r}")
    return round_integers(values, params)


def points_table(exp: Experiment, values: np.ndarray) -> pd.DataFrame:
    """The points as a table: ``point`` then one column per parameter (integers as int64)."""
    data: dict[str, Any] = {"point": np.arange(len(values), dtype=np.int64)}
    for k, p in enumerate(exp.parameters):
        data[p.name] = values[:, k].astype(np.int64) if p.integer else values[:, k]
    return pd.DataFrame(data)
