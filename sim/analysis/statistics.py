"""Analysis of results directories: loading, proportions, survival, sweeps.

Everything here is a pure function of tables (pandas) and the metadata dict, so the figures,
the report, a notebook or a test can call it on data from anywhere. Sweep analyses take
``(runs, points, meta)`` as written by ``sim sweep`` (see the results-directory contract in
``sim/results.py``): ``points`` holds one row per design point in sample order, ``runs`` one row
per (point, replicate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import SimInputError
from sim.results import read_metadata
from sim.scenario import files


def events_of(runs: pd.DataFrame) -> tuple[str, ...]:
    """The yes/no outcomes of a run table that have a ``<name>_month`` column (events with a
    month, such as a defection or a partnership), for results without a recorded scenario.
    """
    return tuple(c for c in runs.columns if runs[c].dtype == bool and f"{c}_month" in runs.columns)


SPREAD_FILE = "parameter_spread.json"  # a run's headline over parameter settings (`spread`)


@dataclass(frozen=True)
class Results:
    """One results directory, read into memory (trajectories only for single runs)."""

    path: Path
    meta: dict[str, Any]
    runs: pd.DataFrame
    trajectories: pd.DataFrame | None = None
    points: pd.DataFrame | None = None
    outcomes: list[dict[str, str]] = field(default_factory=list)
    spread: dict[str, Any] | None = None  # `sim.analysis.spread.spread`, if the run made one

    @property
    def kind(self) -> str:
        """``"run"`` or ``"sweep"``."""
        return str(self.meta.get("kind", "run"))

    @property
    def name(self) -> str:
        """The scenario name recorded in the metadata (or the folder name)."""
        return str(self.meta.get("scenario_name") or self.path.name)

    @property
    def months(self) -> int:
        """The horizon in months."""
        return int(self.meta.get("months", 0))

    def label(self, actor: str) -> str:
        """Return the display label of an actor, from the recorded scenario."""
        actors = (self.meta.get("scenario") or {}).get("actors") or {}
        return str((actors.get(actor) or {}).get("label", actor))

    def unit(self, outcome: str) -> str:
        """Return the declared unit of an outcome ('' if not declared)."""
        return next((o.get("unit", "") for o in self.outcomes if o.get("name") == outcome), "")


def load(path: str | Path) -> Results:
    """Read a `sim run` or `sim sweep` results directory."""
    path = Path(path)
    meta = read_metadata(path)
    declared: list[dict[str, str]] = []
    if (path / "outcomes.json").exists():
        where = path / "outcomes.json"
        text = files.read_text(where, (".json",))  # bounded, regular file
        try:
            declared = json.loads(text)["outcomes"]
        except (ValueError, TypeError, KeyError, RecursionError):
            declared = None
        if not isinstance(declared, list) or not all(isinstance(o, dict) for o in declared):
            raise SimInputError("not an outcomes record", file=str(where), field="outcomes")
    if meta.get("kind") == "sweep":
        for part in ("points.parquet", "runs"):
            if not (path / part).exists():
                raise SimInputError(f"sweep results lack {part}", file=str(path))
        runs = pd.read_parquet(path / "runs")
        points = pd.read_parquet(path / "points.parquet")
        return Results(path, meta, runs, None, points, declared)
    if not (path / "runs.parquet").exists():
        raise SimInputError("results lack runs.parquet", file=str(path))
    runs = pd.read_parquet(path / "runs.parquet")
    traj_path = path / "trajectories.parquet"
    traj = pd.read_parquet(traj_path) if traj_path.exists() else None
    over = path / SPREAD_FILE
    spread = json.loads(over.read_text()) if over.exists() else None
    return Results(path, meta, runs, traj, None, declared, spread)


def labels_for(results: list[Results]) -> list[str]:
    """Distinct display names: scenario names (a sweep's experiment name), or folder names
    where those collide.
    """
    names = [
        str((r.meta.get("experiment") or {}).get("name") or r.name) if r.kind == "sweep" else r.name
        for r in results
    ]
    if len(set(names)) == len(names):
        return names
    folders = [r.path.name for r in results]
    return folders if len(set(folders)) == len(folders) else [str(r.path) for r in results]


# ---------------------------------------------------------------------------------------------
# Proportions


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Share ``k/n`` with its Wilson score interval: ``(p, low, high)``."""
    if n <= 0:
        return (float("nan"), float("nan"), float("nan"))
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return (k / n, float(ci.low), float(ci.high))


# ---------------------------------------------------------------------------------------------
# Survival


def survival(event_month: pd.Series, horizon: int) -> pd.DataFrame:
    """Kaplan-Meier estimate of "no event yet" by month, runs without one censored at horizon.

    ``event_month`` is the (1-based) month of the first event, missing where there was none.
    Returns one row per month 0..horizon with ``at_risk``, ``events``, the monthly ``hazard``
    (events / at risk) and ``survival`` (the product of ``1 - hazard`` up to that month), plus
    a Greenwood 95% band ``low``/``high``.
    """
    months = pd.to_numeric(event_month, errors="coerce").to_numpy(dtype=float)
    observed = ~np.isnan(months)
    t = np.where(observed, months, float(horizon))
    grid = np.arange(horizon + 1)
    events = np.array([np.sum(observed & (t == m)) for m in grid], dtype=float)
    at_risk = np.array([np.sum(t >= m) for m in grid], dtype=float)
    events[0] = 0.0  # month 0 is the starting state; nothing happens before month 1
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, np.nan)
        surv = np.cumprod(np.where(at_risk > 0, 1.0 - hazard, 1.0))
        term = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
    se = surv * np.sqrt(np.cumsum(term))
    return pd.DataFrame(
        {
            "month": grid,
            "at_risk": at_risk.astype(int),
            "events": events.astype(int),
            "hazard": hazard,
            "survival": surv,
            "low": np.clip(surv - 1.96 * se, 0, 1),
            "high": np.clip(surv + 1.96 * se, 0, 1),
        }
    )


# ---------------------------------------------------------------------------------------------
# Trajectories


def dyads(traj: pd.DataFrame) -> list[str]:
    """List the actor pairs ``"a-b"`` with an alignment column (``alignment__a__b``) in a
    trajectories table.
    """
    return ["-".join(c.split("__")[1:]) for c in traj.columns if c.startswith("alignment__")]


def dyad_column(dyad: str, actors: list[str] | None = None) -> str:
    """The trajectories column of a dyad ``"a-b"`` (actor ids may contain ``-`` only if
    ``actors`` is given to split it).
    """
    for a in actors or []:
        if dyad.startswith(f"{a}-"):
            return f"alignment__{a}__{dyad[len(a) + 1 :]}"
    a, b = dyad.split("-", 1)
    return f"alignment__{a}__{b}"


def series(traj: pd.DataFrame, column: str) -> np.ndarray:
    """Return a (runs, months) array of one trajectory column."""
    return traj.pivot(index="replicate", columns="month", values=column).to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------------
# Sweeps


def parameter_names(meta: dict[str, Any]) -> list[str]:
    """List the swept parameters' dotted names, in the design's order."""
    problem = meta.get("problem") or {}
    if problem.get("names"):
        return list(problem["names"])
    return [p["name"] for p in meta.get("parameters", [])]


def point_means(runs: pd.DataFrame, points: pd.DataFrame, outcome: str) -> np.ndarray:
    """Mean of an outcome over the replicates of each design point, in ``points`` order."""
    if outcome not in runs:
        raise SimInputError("no such outcome in the run table", field=outcome)
    means = runs.groupby("point")[outcome].mean(numeric_only=False).astype(float)
    index = points["point"] if "point" in points else pd.Series(np.arange(len(points)))
    y = means.reindex(index.to_numpy()).to_numpy(dtype=float)
    if np.isnan(y).any():
        raise SimInputError("some design points have no runs (incomplete sweep?)", field=outcome)
    return y


def _experiment(meta: dict[str, Any]) -> dict[str, Any]:
    """The experiment record `sim sweep` keeps in its metadata (empty if none)."""
    exp = meta.get("experiment")
    return exp if isinstance(exp, dict) else {}


def _problem(meta: dict[str, Any]) -> dict[str, Any]:
    problem = meta.get("problem")
    if not problem:
        params = meta.get("parameters", [])
        problem = {
            "num_vars": len(params),
            "names": [p["name"] for p in params],
            "bounds": [[p["low"], p["high"]] for p in params],
        }
    return dict(problem)


def sobol_second_order(n_points: int, num_vars: int) -> bool:
    """Whether a Saltelli/Sobol sample of this size was drawn with second-order columns."""
    if n_points % (2 * num_vars + 2) == 0 and n_points % (num_vars + 2) != 0:
        return True
    if n_points % (num_vars + 2) == 0:
        return False
    raise SimInputError(
        "sample size does not fit a Sobol design",
        field="points",
        found=n_points,
        allowed=f"a multiple of {num_vars + 2} or {2 * num_vars + 2}",
    )


def sobol(
    y: np.ndarray,
    meta: dict[str, Any],
    *,
    seed: int | None = None,
    second_order: bool | None = None,
) -> pd.DataFrame:
    """First- and total-order Sobol indices with 95% confidence half-widths.

    ``y`` holds one value per design point in SALib sample order. Returns one row per parameter
    with ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import sobol as sobol_analyze

    problem = _problem(meta)
    if second_order is None:
        second_order = meta.get("calc_second_order", _experiment(meta).get("second_order"))
        if second_order is None:
            second_order = sobol_second_order(len(y), problem["num_vars"])
    y = np.asarray(y, dtype=float)
    if np.ptp(y) == 0:
        zeros = np.zeros(problem["num_vars"])
        return pd.DataFrame(
            {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros},
            index=pd.Index(problem["names"], name="parameter"),
        )
    res = sobol_analyze.analyze(
        problem,
        y,
        calc_second_order=bool(second_order),
        print_to_console=False,
        seed=seed if seed is not None else meta.get("seed"),
    )
    return pd.DataFrame(
        {k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(problem["names"], name="parameter"),
    )


def morris(
    x: np.ndarray, y: np.ndarray, meta: dict[str, Any], *, num_levels: int | None = None
) -> pd.DataFrame:
    """Morris elementary effects: ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf``."""
    from SALib.analyze import morris as morris_analyze

    problem = _problem(meta)
    res = morris_analyze.analyze(
        problem,
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        num_levels=int(num_levels or _experiment(meta).get("levels", meta.get("num_levels", 4))),
        print_to_console=False,
        seed=meta.get("seed"),
    )
    return pd.DataFrame(
        {k: np.asarray(res[k], dtype=float) for k in ("mu", "mu_star", "sigma", "mu_star_conf")},
        index=pd.Index(problem["names"], name="parameter"),
    )


def sensitivity(
    runs: pd.DataFrame, points: pd.DataFrame, meta: dict[str, Any], outcome: str
) -> pd.DataFrame | None:
    """Compute the design's sensitivity indices of an outcome's per-point mean (or None)."""
    design = meta.get("design")
    y = point_means(runs, points, outcome)
    if design == "sobol":
        return sobol(y, meta)
    if design == "morris":
        x = points[parameter_names(meta)].to_numpy(dtype=float)
        return morris(x, y, meta)
    return None


def probability_grid(
    runs: pd.DataFrame, x: str, y: str, outcome: str, bins: int = 6
) -> pd.DataFrame:
    """Share of runs with ``outcome`` over two swept parameters, others marginalised.

    Each parameter is cut into ``bins`` equal-width bins (fewer if it takes fewer values).
    Returns a table indexed by the ``y`` bin midpoints, columns the ``x`` bin midpoints; the
    number of runs per cell is in ``attrs["runs"]``.
    """
    for name in (x, y, outcome):
        if name not in runs:
            raise SimInputError("no such column in the sweep's run table", field=name)
    cuts = {}
    for name in (x, y):
        values = runs[name].astype(float)
        distinct = np.unique(values)
        if len(distinct) <= bins:
            cuts[name] = values
        else:
            edges = np.linspace(values.min(), values.max(), bins + 1)
            idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
            cuts[name] = pd.Series((edges[idx] + edges[idx + 1]) / 2, index=runs.index)
    frame = pd.DataFrame({"x": cuts[x], "y": cuts[y], "hit": runs[outcome].astype(float)})
    grouped = frame.groupby(["y", "x"])["hit"]
    table = grouped.mean().unstack("x").sort_index()
    table.attrs["runs"] = grouped.size().unstack("x").reindex_like(table)
    table.index.name, table.columns.name = y, x
    return table
