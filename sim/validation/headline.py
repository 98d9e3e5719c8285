"""Runs at plausible parameter settings, so that every headline carries parameter uncertainty.

`sim run` and `sim report` print each probability with two intervals: the Wilson interval over
the point run's replicates (seed noise) and the spread over K parameter settings drawn from the
evidence ranges (`sim.validation.backtest.ensemble.evidence_draws`: every number with a range,
independently and uniformly) or from a calibration's posterior. This module makes the K x m
runs; `sim.analysis.spread` turns them into the spread and its drivers.

Settings are drawn once per setting (not once per run) so that each setting's share can be
estimated from its m runs and compared across settings; run j of setting s uses the replicate
stream s * m + j of the same seed (as `sim run` does for its replicates), so the same seed gives
the same spread, byte for byte. Numbers the user fixed with ``--set`` are not drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim import api
from sim.analysis import spread as spread_mod
from sim.model.params import compile_params
from sim.scenario import Scenario
from sim.validation.backtest.ensemble import evidence_draws

DEFAULT_SETTINGS = 40  # K: enough for a rank screen of the drivers, cheap next to a run
MIN_RUNS_PER_SETTING = 10


@dataclass(frozen=True)
class _Repeated:
    """K parameter settings, each repeated for m consecutive replicates (what `api.simulate`
    takes as a posterior).
    """

    values: dict[str, np.ndarray]
    per: int
    note: str

    def draw(self, replicates: int, seed: int) -> dict[str, np.ndarray]:
        return {n: np.repeat(v, self.per)[:replicates] for n, v in self.values.items()}


def runs_per_setting(replicates: int, settings: int) -> int:
    """m: the requested replicates split over the settings, at least 10 each."""
    return max(MIN_RUNS_PER_SETTING, -(-replicates // settings))


def settings_for(
    sc: Scenario, settings: int, seed: int, posterior: Any | None = None, fixed: Iterable[str] = ()
) -> tuple[pd.DataFrame, str]:
    """K parameter settings (one row each) and a phrase saying where they come from."""
    params = compile_params(sc)
    if posterior is not None:
        values = posterior.draw(settings, seed)
        source = f"drawn from the posterior {posterior.path}"
    else:
        values = evidence_draws(sc.source, params, settings, seed)
        source = "drawn uniformly within the evidence ranges"
    values = {n: v for n, v in values.items() if n not in set(fixed) and n in params.locate}
    return pd.DataFrame(values, index=pd.RangeIndex(settings)), source


def parameter_spread(
    sc: Scenario,
    replicates: int,
    seed: int,
    months: int | None = None,
    settings: int = DEFAULT_SETTINGS,
    posterior: Any | None = None,
    fixed: Iterable[str] = (),
) -> dict[str, Any]:
    """Run ``settings`` parameter settings x `runs_per_setting` runs of the scenario and return
    the headline probabilities' spread over them (`sim.analysis.spread.spread`).
    """
    values, source = settings_for(sc, settings, seed, posterior, fixed)
    per = runs_per_setting(replicates, settings)
    arrays = {n: values[n].to_numpy() for n in values.columns}
    res = api.simulate(
        sc,
        replicates=settings * per,
        seed=seed,
        months=months,
        keep_series=False,
        posterior=_Repeated(arrays, per, source),
    )
    setting = np.arange(settings * per) // per
    data = spread_mod.spread(res.runs, setting, values, sc, res.months, source)
    data["seed"] = seed
    return data
