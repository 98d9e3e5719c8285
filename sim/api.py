"""Python API for notebooks and other tools: a run is a function.

>>> from sim import api
>>> result = api.simulate("scenarios/baseline.toml", replicates=200, seed=7,
...                       overrides={"actors.russia.salience.ukraine": 0.9})
>>> result.runs.betrayal.mean()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import engine, outcomes, rng
from sim.model.params import Params, compile_params
from sim.scenario import Scenario, as_scenario

# Replicates simulated together; bounds memory, and results do not depend on it because each
# run's random stream is keyed by its replicate index.
CHUNK = 2000


@dataclass(frozen=True)
class Result:
    """What `simulate` returns: the run table, per-month trajectories and what produced them."""

    scenario: Scenario
    params: Params
    seed: int
    months: int
    runs: pd.DataFrame
    series: pd.DataFrame | None

    def summary(self) -> pd.DataFrame:
        """Headline numbers: probabilities and medians over the runs."""
        return summarise(self.runs)


def simulate(
    scenario: str | Path | Scenario,
    replicates: int = 100,
    seed: int = 0,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    keep_series: bool = True,
    point: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run ``replicates`` seeded replicates of a scenario with the array engine."""
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    sc = as_scenario(scenario, overrides)
    params = compile_params(sc)
    months = sc.months if months is None else int(months)
    runs, series = [], []
    for start in range(0, replicates, CHUNK):
        reps = np.arange(start, min(start + CHUNK, replicates))
        keys = rng.run_keys(seed, np.full(len(reps), point), reps)
        traj = engine.simulate(params, keys, months)
        runs.append(outcomes.run_table(traj, params, reps))
        if keep_series:
            series.append(outcomes.series_table(traj, params, reps))
        if progress:
            progress(len(reps))
    return Result(
        scenario=sc,
        params=params,
        seed=seed,
        months=months,
        runs=pd.concat(runs, ignore_index=True),
        series=pd.concat(series, ignore_index=True) if keep_series else None,
    )


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers of a run table, one row per statistic."""
    n = len(runs)
    rows = [
        ("runs", n, ""),
        ("P(strategic partnership)", runs.partnership.mean(), "share of runs"),
        ("P(betrayal)", runs.betrayal.mean(), "share of runs"),
        (
            "median months until betrayal",
            runs.betrayal_month.dropna().median(),
            "among runs with one",
        ),
        ("median final alignment", runs.alignment_final.median(), "partnership pair"),
        ("median final hedging index", runs.hedging_final.median(), ""),
        ("most common bloc structure", runs.blocs.mode().iat[0] if n else "", ""),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value", "note"])
