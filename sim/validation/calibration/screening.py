"""Screening: which scenario parameters move the calibration distance (SALib Morris).

Before a calibration learns a few parameters, a Morris elementary-effects design over every
candidate's evidence range measures how far each moves the distance between the simulated and
the observed summary statistics. Each design point runs ``replicates`` worlds on common random
numbers (the same streams at every point), with the measurement parameters at the centre of
their priors and no measurement error, so an elementary effect is the parameter's, not noise.
The distance standardises each statistic by its spread over the whole design.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sim.validation.calibration.problem import Problem


@dataclass(frozen=True)
class Screening:
    """The screening's table (one row per candidate, by decreasing mu_star) and its design."""

    table: pd.DataFrame  # name, low, high, mu_star, mu_star_conf, sigma, rank
    trajectories: int
    replicates: int
    seed: int
    runs: int

    def top(self, k: int) -> tuple[str, ...]:
        """The ``k`` parameters with the largest mean absolute elementary effect."""
        return tuple(self.table.name.iloc[:k])


def screen(
    problem: Problem,
    candidates: tuple[str, ...],
    ranges: dict[str, tuple[float, float]],
    trajectories: int = 12,
    replicates: int = 8,
    seed: int = 0,
    batch: int = 4000,
) -> Screening:
    """Morris screening of ``candidates`` on the calibration distance of ``problem``."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    names = list(candidates)
    bounds = [list(ranges[n]) for n in names]
    spec = {"num_vars": len(names), "names": names, "bounds": bounds}
    x = morris_sample.sample(spec, trajectories, num_levels=4, seed=seed)
    sub = replace(problem, names=(*names, *problem.names[-3:]))
    centre = (problem.low[-3:] + problem.high[-3:]) / 2
    centre[1] = 0.0  # no drift in the offset's centre
    stats = []
    rows_per_point = replicates
    per_batch = max(1, batch // rows_per_point)
    ids = np.tile(np.arange(replicates, dtype=np.int64), per_batch)  # common random numbers
    for start in range(0, len(x), per_batch):
        block = x[start : start + per_batch]
        theta = np.repeat(block, replicates, axis=0)
        theta = np.hstack([theta, np.tile(centre, (len(theta), 1))])
        d = sub.distances(theta, ids[: len(theta)], noise=False)
        s = problem.data.summaries(d, problem.observed)
        stats.append(s.reshape(len(block), replicates, -1).mean(axis=1))
    stats = np.concatenate(stats)
    observed = np.array(list(problem.observed_statistics().values()))
    spread = stats.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    y = np.sqrt((((stats - observed) / spread) ** 2).sum(axis=1))
    res = morris_analyze.analyze(spec, x, y, num_levels=4, seed=seed, print_to_console=False)
    table = pd.DataFrame(
        {
            "name": names,
            "low": [b[0] for b in bounds],
            "high": [b[1] for b in bounds],
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        }
    )
    table = table.sort_values("mu_star", ascending=False, ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return Screening(table, trajectories, replicates, seed, runs=len(x) * replicates)
