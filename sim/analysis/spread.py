"""Spread of the headline probabilities over plausible parameter settings.

A run of one scenario at its point values gives each probability with a Wilson interval over
runs: the simulation's sampling error only. It says nothing of what is not known about the
parameters. This module takes runs made at K parameter settings (K draws from the evidence
ranges or a posterior, m runs each; `sim.validation.headline` makes them) and states, for every
headline probability of `sim.analysis.summary.summarise`:

- ``pooled``: the share over all K x m runs (parameters averaged over their ranges), with its
  Wilson interval;
- the spread of the per-setting shares: median, the middle 80% (10th to 90th percentile) and
  the extremes, each share estimated from the m runs of its setting (so the spread also holds
  those runs' sampling noise, which ``noise`` states: the largest Wilson half-width of one
  setting);
- ``drivers``: the parameters that move it most, ranked by the absolute Spearman rank
  correlation between a parameter's value and the share across the K settings (a quick
  screen, not a sensitivity analysis: with K = 40 settings a correlation below about 0.3 is
  not distinguishable from none).

Everything here is a pure function of tables, so the run command, the report and a test call it
alike; the result is plain JSON-ready data.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.statistics import SPREAD_FILE
from sim.analysis.summary import summarise
from sim.scenario import Scenario

PROBABILITY_KEYS = ("p", "p_offered", "p_bloc_change")  # summary rows that are shares of runs
TOP_DRIVERS = 3
FILE = SPREAD_FILE  # where `sim run` keeps it in a results directory


def spread(
    runs: pd.DataFrame,
    setting: np.ndarray,
    values: pd.DataFrame,
    scenario: Scenario | None = None,
    months: int | None = None,
    source: str = "",
) -> dict[str, Any]:
    """The headline probabilities over parameter settings.

    ``runs`` is a run table of K x m runs, ``setting`` (one entry per run) says which setting
    0..K-1 each run used, and ``values`` holds the K settings (one row each, one column per
    varied dotted name). ``source`` says where the settings come from. Returns a dict with
    ``source``, ``settings`` (K), ``runs_per_setting``, ``varied`` and ``rows``: one per
    probability with ``statistic``, ``outcome``, ``key``, ``pooled`` [``low95``, ``high95``],
    per-setting ``median``, ``p10``, ``p90``, ``min``, ``max``, ``noise`` and ``drivers``
    (``[name, rho]`` pairs, strongest first).
    """
    setting = np.asarray(setting)
    k = len(values)
    pooled = summarise(runs, scenario, months)
    per = [summarise(runs[setting == s], scenario, months) for s in range(k)]
    rows = []
    for r in pooled.itertuples(index=False):
        if r.key not in PROBABILITY_KEYS or r.low95 is None or math.isnan(r.value):
            continue
        shares, noise = [], 0.0
        for table in per:
            hit = table[(table.outcome == r.outcome) & (table.key == r.key)]
            if hit.empty or math.isnan(hit.value.iat[0]):
                shares.append(np.nan)
                continue
            shares.append(float(hit.value.iat[0]))
            noise = max(noise, (float(hit.high95.iat[0]) - float(hit.low95.iat[0])) / 2)
        x = np.array(shares)
        ok = ~np.isnan(x)
        if not ok.any():
            continue
        rows.append(
            {
                "statistic": r.statistic,
                "outcome": r.outcome,
                "key": r.key,
                "pooled": float(r.value),
                "low95": float(r.low95),
                "high95": float(r.high95),
                "median": float(np.median(x[ok])),
                "p10": float(np.percentile(x[ok], 10)),
                "p90": float(np.percentile(x[ok], 90)),
                "min": float(x[ok].min()),
                "max": float(x[ok].max()),
                "noise": noise,
                "drivers": drivers(values[ok], x[ok]),
            }
        )
    return {
        "source": source,
        "settings": k,
        "runs_per_setting": int(len(runs) // max(k, 1)),
        "varied": [str(c) for c in values.columns],
        "rows": rows,
    }


def drivers(values: pd.DataFrame, shares: np.ndarray, top: int = TOP_DRIVERS) -> list[list]:
    """The ``top`` parameters whose values rank-correlate most with ``shares`` (Spearman),
    as ``[name, rho]`` pairs, strongest first; none when the shares do not vary.
    """
    if len(shares) < 3 or np.ptp(shares) == 0:
        return []
    scored = []
    for name in values.columns:
        v = values[name].to_numpy(dtype=float)
        if np.ptp(v) == 0:
            continue
        rho = stats.spearmanr(v, shares).statistic
        if not math.isnan(rho):
            scored.append([str(name), round(float(rho), 2)])
    scored.sort(key=lambda nr: (-abs(nr[1]), nr[0]))
    return scored[:top]


def describe(row: dict[str, Any], settings: int) -> list[str]:
    """Lines on a probability's spread over parameter settings and its drivers, for text."""
    lines = [
        f"over {settings} parameter settings: pooled {row['pooled']:.3f}; per setting median "
        f"{row['median']:.3f}, middle 80% {row['p10']:.3f}-{row['p90']:.3f}, range "
        f"{row['min']:.3f}-{row['max']:.3f} (each +/-{row['noise']:.2f} seed noise)"
    ]
    if row["drivers"]:
        lines.append("moved most by " + ", ".join(f"{n} (rho {r:+.2f})" for n, r in row["drivers"]))
    return lines


def lookup(data: dict[str, Any] | None, outcome: str, key: str) -> dict[str, Any] | None:
    """The spread row of one outcome's statistic, or None."""
    for row in (data or {}).get("rows", ()):
        if row["outcome"] == outcome and row["key"] == key:
            return row
    return None
