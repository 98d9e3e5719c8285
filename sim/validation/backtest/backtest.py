"""The backtest: the model's forecasts of pre-registered events, scored against history and
against naive baselines.

Each event in scope gets the model's forecast from an ensemble of runs of the events file's
scenario (`sim.validation.backtest.ensemble`): the share of runs in which a binary event happens, or
the distribution of a numeric one over the runs. Three baselines are scored beside it:

- ``always_0.5``: probability 0.5 for every binary event; for a count of months, each month
  independently with probability 0.5 (a Binomial forecast);
- ``base_rate``: the share of calibration-period events of the same kind that happened (the
  reference class; all calibration-period binary events when a kind has none there), and for
  counts the pooled monthly share of the calibration period's counts of that kind; applied out
  of sample after the calibration period and in sample within it;
- ``persistence``: the world as it stood at the start carried forward with the model's own
  spread: the same runs (the same parameter draws and random streams) with no regime change
  after the start, so the drivers stay as in 2015. A binary event's probability is the share
  of those runs in which it happens, smoothed by half a run each way ((k + 1/2) / (R + 1)), so
  it is never 0 or 1; a count's forecast is their distribution.

An event is **decided by the drivers** (`decided_by`) when the scenario's dated regimes alone
settle it, judged before its outcome is looked at: the model's runs agree on one value (at
least `SETTLED` of the weight) and the same runs without regime changes do not agree on that
value. Those events say what the drivers were written to say; the others are
**informative** and are scored apart.

Scores (`sim.validation.backtest.scores`): Brier and log score for binary events, CRPS for numeric
ones, each averaged per subset of events (all, informative, decided) and period (calibration,
after, all) with paired bootstrap intervals on the model's score minus each baseline's
(negative: the model does better). `skill` picks, per period and score, the best baseline on
the informative events and the model's difference from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sim.model.engine import Trajectory
from sim.validation.backtest import scores
from sim.validation.backtest.ensemble import Ensemble, simulate
from sim.validation.backtest.events import Event, EventSet, check_against, values

FORECASTERS = ("model", "always_0.5", "base_rate", "persistence")
BASELINES = FORECASTERS[1:]
SCORES = ("brier", "log", "crps")
PERIODS = ("calibration", "after", "all")
SUBSETS = ("all", "informative", "decided")
SETTLED = 0.98  # the share of the runs' weight on one value that settles an event


@dataclass(frozen=True)
class Backtest:
    """A scored backtest: per-event forecasts and scores, the summary and the run values."""

    events: EventSet
    ensemble: Ensemble
    table: pd.DataFrame  # one row per scored event
    summary: pd.DataFrame  # one row per (period, score, forecaster)
    values: pd.DataFrame  # one row per run: its weight and every event's value
    seed: int
    free: pd.DataFrame | None = None  # the same runs without regime changes (persistence)


def run_values(events: EventSet, ens: Ensemble) -> pd.DataFrame:
    """Every scored event's value in every run (bool or float), with the runs' weights."""
    cols: dict[str, np.ndarray] = {"run": np.arange(ens.runs), "weight": ens.weights}
    for e in events.scored:
        check_against(e.observable, ens.params, ens.traj.months, str(events.path))
        cols[e.id] = values(e.observable, ens.traj, ens.params)
    return pd.DataFrame(cols)


def regime_free(ens: Ensemble) -> Trajectory:
    """The ensemble's runs (same parameter draws, same random streams) with no regime change
    after the start: every regime dated after month 1 moved past the horizon, so the drivers
    stay as they were at the start.
    """
    months = ens.traj.months
    rg = np.asarray(ens.params.rg_month)
    still = replace(ens.params, rg_month=np.where(rg > 1, months + 1, rg))
    return simulate(still, ens.seed, ens.runs, months)


def free_values(events: EventSet, ens: Ensemble) -> pd.DataFrame:
    """Every scored event's value in every regime-free run, with the runs' weights."""
    traj = regime_free(ens)
    cols: dict[str, np.ndarray] = {"run": np.arange(ens.runs), "weight": ens.weights}
    for e in events.scored:
        cols[e.id] = values(e.observable, traj, ens.params)
    return pd.DataFrame(cols)


def settled_share(x: np.ndarray, weights: np.ndarray, value: float) -> float:
    """The share of the runs' weight on ``value``."""
    return float(np.sum(weights * (np.asarray(x, float) == value)))


def mode(x: np.ndarray, weights: np.ndarray) -> float:
    """The value with the most weight (the smallest such value on a tie)."""
    x = np.asarray(x, float)
    vals = np.unique(x)
    return float(vals[np.argmax([np.sum(weights * (x == v)) for v in vals])])


def decided_by(model: np.ndarray, free: np.ndarray, weights: np.ndarray) -> str:
    """The string "drivers" when the regimes alone settle the event, else "" (informative).

    Settled: at least `SETTLED` of the model runs' weight on one value; by the drivers: the
    same runs without regime changes do not put that much weight on that value. The outcome
    plays no part, so the rule cannot pick the events the model gets right.
    """
    v = mode(model, weights)
    tol = 1e-9  # weights summed in floating point: 98 runs of 1/100 are 98%
    if settled_share(model, weights, v) < SETTLED - tol:
        return ""
    return "drivers" if settled_share(free, weights, v) < SETTLED - tol else ""


def persistence_probability(free: np.ndarray, weights: np.ndarray) -> float:
    """The probability of a binary event in the regime-free runs, (k + 1/2) / (R + 1) with k
    the weighted number of runs in which it happens: never 0 or 1 (a Jeffreys-style half run
    each way, so a baseline is not scored as certain on a finite number of runs).
    """
    r = len(weights)
    k = float(np.sum(weights * np.asarray(free, float))) * r
    return (k + 0.5) / (r + 1)


def base_rates(events: tuple[Event, ...]) -> dict[str, float]:
    """The base-rate forecast of each event: a probability (binary) or a monthly share (count).

    The reference class is the calibration-period events of the same kind and type.
    """
    calib = [e for e in events if e.period == "calibration"]
    out: dict[str, float] = {}
    binary_all = [e.observed for e in calib if e.observable.binary]
    for e in events:
        same = [
            c
            for c in calib
            if c.observable.kind == e.observable.kind and c.observable.binary == e.observable.binary
        ]
        if e.observable.binary:
            pool = [c.observed for c in same] or binary_all
            out[e.id] = float(np.mean(pool)) if pool else 0.5
        else:
            months = sum(c.observable.months for c in same)
            out[e.id] = sum(c.observed for c in same) / months if months else 0.5
    return out


def _scores_of(e: Event, runs: pd.Series, weights: np.ndarray, rate: float, free: pd.Series):
    """(forecast columns, {score: {forecaster: value}}) of one event."""
    y = e.observed
    if e.observable.binary:
        p = float(np.sum(weights * runs.to_numpy(float)))
        still = persistence_probability(free.to_numpy(float), weights)
        probs = {"model": p, "always_0.5": 0.5, "base_rate": rate, "persistence": still}
        out = {
            "brier": {k: float(scores.brier([y], [v])[0]) for k, v in probs.items()},
            "log": {k: float(scores.log_score([y], [v])[0]) for k, v in probs.items()},
        }
        return {"forecast": p, "persistence": still}, out
    x, xf = runs.to_numpy(float), free.to_numpy(float)
    n = e.observable.months
    q = _weighted_quantiles(x, weights, (0.05, 0.5, 0.95))
    crps = {
        "model": scores.crps_ensemble(y, x, weights),
        "always_0.5": scores.crps_binomial(y, n, 0.5),
        "base_rate": scores.crps_binomial(y, n, min(max(rate, 0.0), 1.0)),
        "persistence": scores.crps_ensemble(y, xf, weights),
    }
    forecast = {
        "forecast": float(np.sum(weights * x)),
        "q05": q[0],
        "q50": q[1],
        "q95": q[2],
        "persistence": float(np.sum(weights * xf)),
    }
    return forecast, {"crps": crps}


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    cum /= cum[-1]
    return [float(x[order][min(np.searchsorted(cum, q), len(x) - 1)]) for q in qs]


def score(events: EventSet, ens: Ensemble, seed: int) -> Backtest:
    """Forecast and score every event in scope; summarise by period with bootstrap intervals."""
    runs = run_values(events, ens)
    free = free_values(events, ens)
    rates = base_rates(events.scored)
    rows = []
    for e in events.scored:
        forecast, by_score = _scores_of(e, runs[e.id], ens.weights, rates[e.id], free[e.id])
        decided = decided_by(runs[e.id].to_numpy(float), free[e.id].to_numpy(float), ens.weights)
        row = {
            "event": e.id,
            "label": e.label,
            "period": e.period,
            "type": "binary" if e.observable.binary else "count",
            "window": f"{e.window[0]}..{e.window[1]}",
            "months": e.observable.months,
            "observed": e.observed,
            **forecast,
            "base_rate": rates[e.id],
            "decided_by": decided,
            "informative": not decided,
        }
        for name, per in by_score.items():
            row.update({f"{name}_{k}": v for k, v in per.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    for name in SCORES:
        for k in FORECASTERS:
            if f"{name}_{k}" not in table:
                table[f"{name}_{k}"] = np.nan
    return Backtest(events, ens, table, summarise(table, seed), runs, seed, free)


def summarise(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Mean score per (subset, period, score, forecaster), and each baseline's difference from
    the model (model minus baseline; negative: the model does better) with a paired bootstrap
    95% interval over events. Subsets: all events, the informative ones, those decided by the
    drivers.
    """
    rows = []
    for subset in SUBSETS:
        chosen = table
        if subset != "all":
            chosen = table[table.informative == (subset == "informative")]
        rows += _summary_rows(chosen, subset, seed)
    return pd.DataFrame(rows)


def _summary_rows(table: pd.DataFrame, subset: str, seed: int) -> list[dict]:
    rows = []
    for period in PERIODS:
        part = table if period == "all" else table[table.period == period]
        for name in SCORES:
            cols = {k: part[f"{name}_{k}"] for k in FORECASTERS}
            have = cols["model"].notna()
            n = int(have.sum())
            if n == 0:
                continue
            for k in FORECASTERS:
                mean = float(cols[k][have].mean())
                diff = lo = hi = float("nan")
                if k != "model":
                    d = (cols["model"] - cols[k])[have].to_numpy(float)
                    diff, lo, hi = scores.paired_bootstrap(d, seed)
                rows.append(
                    {
                        "subset": subset,
                        "period": period,
                        "score": name,
                        "events": n,
                        "forecaster": k,
                        "mean": mean,
                        "model_minus": diff,
                        "low95": lo,
                        "high95": hi,
                    }
                )
    return rows


def skill(summary: pd.DataFrame, subset: str = "informative") -> pd.DataFrame:
    """Per (period, score) of ``subset``: the model's mean score, the best baseline (lowest
    mean score on those events) and the model minus it with its paired bootstrap interval.
    """
    part = summary[summary.subset == subset] if "subset" in summary else summary
    rows = []
    for (period, name), grp in part.groupby(["period", "score"], sort=False):
        base = grp[grp.forecaster != "model"]
        best = base.loc[base["mean"].idxmin()]
        rows.append(
            {
                "subset": subset,
                "period": period,
                "score": name,
                "events": int(best.events),
                "model": float(grp[grp.forecaster == "model"]["mean"].iloc[0]),
                "best_baseline": best.forecaster,
                "baseline": float(best["mean"]),
                "model_minus": float(best.model_minus),
                "low95": float(best.low95),
                "high95": float(best.high95),
            }
        )
    return pd.DataFrame(rows)


def worst(table: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The events the model gets most wrong: binary by Brier score, counts by CRPS relative to
    the window's length, worst first.
    """
    badness = table.brier_model.where(table.type == "binary", table.crps_model / table.months)
    return table.assign(badness=badness).sort_values("badness", ascending=False).head(k)
