"""Python API for notebooks and other tools: a run is a function.

>>> from sim import api
>>> result = api.simulate("scenarios/baseline.toml", replicates=200, seed=7,
...                       overrides={"actors.russia.salience.ukraine": 0.9})
>>> result.runs.betrayal.mean()

Many parameter points at once, through the sweep machinery (one row per point)::

>>> api.evaluate([[0.2], [0.9]], ["actors.russia.salience.ukraine"], replicates=200, seed=7)

See docs/api.md, which also covers the EMA Workbench adapter (`sim.ema`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.model import engine, outcomes, rng
from sim.model.params import Params, compile_params
from sim.scenario import BASELINE, Scenario, as_scenario
from sim.scenario.loader import similar
from sim.sweeps import runner

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
    interval_note: str = ""  # what intervals cover beyond sampling, e.g. a posterior's note

    def summary(self) -> pd.DataFrame:
        """Headline numbers: probabilities (with 95% intervals) and medians over the runs."""
        return summarise(self.runs, self.scenario, self.months, self.series)


def simulate(
    scenario: str | Path | Scenario,
    replicates: int = 100,
    seed: int = 0,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    keep_series: bool = True,
    point: int = 0,
    progress: Callable[[int], None] | None = None,
    posterior: Any | None = None,
    on_series: Callable[[pd.DataFrame], None] | None = None,
) -> Result:
    """Run ``replicates`` seeded replicates of a scenario with the array engine.

    With ``on_series``, each block of replicates' per-month table (replicates in order) is
    passed to it instead of being kept, and the result's ``series`` is None: how `sim run`
    writes a large run's trajectories without holding them whole.

    With a ``posterior`` (`sim.validation.calibration.posterior.Posterior`: anything with
    ``draw(replicates, seed) -> {name: values}`` and a ``note``), each replicate runs with its
    own parameter set drawn from it, so the spread of outcomes includes parameter uncertainty.
    """
    _check_int("replicates", replicates, 1)
    _check_int("seed", seed, 0)
    if months is not None:
        _check_int("months", months, 1)  # 2.5 months is refused, not silently 2
    sc = as_scenario(scenario, overrides)
    params = compile_params(sc)
    months = sc.months if months is None else int(months)
    draws = posterior.draw(replicates, seed) if posterior is not None else {}
    runs, series = [], []
    for start in range(0, replicates, CHUNK):
        reps = np.arange(start, min(start + CHUNK, replicates))
        keys = rng.run_keys(seed, np.full(len(reps), point), reps)
        rows = params.assign({n: v[reps] for n, v in draws.items()}) if draws else params
        traj = engine.simulate(rows, keys, months)
        runs.append(outcomes.run_table(traj, rows, reps))
        if on_series is not None:
            on_series(outcomes.series_table(traj, rows, reps))
        elif keep_series:
            series.append(outcomes.series_table(traj, rows, reps))
        if progress:
            progress(len(reps))
    from sim.results import tagged  # scenario and seed first, as in results directories

    return Result(
        scenario=sc,
        params=params,
        seed=seed,
        months=months,
        runs=tagged(pd.concat(runs, ignore_index=True), sc.name, seed),
        series=tagged(pd.concat(series, ignore_index=True), sc.name, seed) if series else None,
        interval_note=posterior.note if posterior is not None else "",
    )


INTERVAL_NOTE = "95% Wilson interval over runs: sampling uncertainty only"


def summarise(
    runs: pd.DataFrame,
    scenario: Scenario | None = None,
    months: int | None = None,
    series: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Headline numbers of a run table: one row per statistic with its value, a 95% interval
    where it is a share of runs (Wilson; sampling uncertainty only), and what it means.

    The outcomes are the scenario's declarations, each summarised by its kind; dates are
    calendar months from the scenario's start; ``series`` (the per-month table) lets a
    defection's response be compared with the victim's other months. The same table heads
    `sim run`'s printout and the report (`sim.analysis.summary.summarise`).
    """
    from sim.analysis import summary

    return summary.summarise(runs, scenario, months, series)


# --------------------------------------------------------------------------------------------
# Many points at once


def evaluate(
    points: Any,
    names: Sequence[str] | None = None,
    replicates: int = 100,
    seed: int = 0,
    months: int | None = None,
    scenario: str | Path | Scenario = BASELINE,
    *,
    first_point: int = 0,
    chunk_size: int = runner.DEFAULT_CHUNK,
    workers: int = 1,
) -> pd.DataFrame:
    """Run many parameter points at once; return one row per point with its outcome means.

    ``points`` is a (P, D) array-like of values for the dotted parameter ``names`` (or a
    DataFrame whose columns are the names). Row p of the result (index ``first_point + p``,
    named ``point``) holds point p's values and, for every numeric or true/false run outcome,
    its mean over ``replicates`` runs: a share of runs for true/false outcomes, the mean over
    the runs where it happened (NaN if none) for months such as ``betrayal_month``.

    The runs go through the sweep runner (`sim.sweeps.runner`): whole points are batched into
    chunks of about ``chunk_size`` runs, each with per-row parameters, and run r of point p
    draws from the stream (seed, first_point + p, r). So the result depends on neither
    ``chunk_size`` nor ``workers``; point p equals `simulate` with the point as overrides and
    ``point=first_point + p``, and point p of a sweep with the same seed; and a long list
    evaluated in parts (``first_point`` = offset of each part) equals the list evaluated at once.

    Each point must be a valid scenario, as `simulate` checks its overrides; bad input raises
    `SimInputError` naming the point and the parameter.
    """
    names, values = _points(points, names)
    for field, value, low in (
        ("replicates", replicates, 1),
        ("seed", seed, 0),
        ("first_point", first_point, 0),
        ("chunk_size", chunk_size, 1),
        ("workers", workers, 1),
    ):
        _check_int(field, value, low)
    sc = as_scenario(scenario)
    if months is not None:
        _check_int("months", months, 1)
    months = sc.months if months is None else int(months)
    params = compile_params(sc)
    integer = _check_points(sc, params, names, values)
    per_chunk = max(1, chunk_size // replicates)
    tasks = (
        runner.ChunkTask(
            chunk=k,
            params=params,
            names=names,
            integer=integer,
            points=np.arange(start, min(start + per_chunk, len(values))) + first_point,
            values=values[start : start + per_chunk],
            replicates=replicates,
            months=months,
            seed=seed,
            trajectories="none",
            sample=0,
        )
        for k, start in enumerate(range(0, len(values), per_chunk))
    )
    means = []
    for res in runner.execute(tasks, workers):
        if res.failure is not None:
            f = res.failure
            raise runner.RunFailure(
                f"run failed at point {f['point']}, replicate {f['replicate']}, seed "
                f"{f['seed']}: {f['error']}"
            )
        means.append(_point_means(res.runs, names))
    table = pd.DataFrame(
        {
            name: values[:, k].astype(np.int64) if integer[k] else values[:, k]
            for k, name in enumerate(names)
        },
        index=pd.RangeIndex(first_point, first_point + len(values), name="point"),
    )
    return pd.concat([table, pd.concat(means).sort_index()], axis=1)


def _points(points: Any, names: Sequence[str] | None) -> tuple[tuple[str, ...], np.ndarray]:
    """The names and a (P, D) float array of the points, or a `SimInputError`."""
    if names is None:
        if not isinstance(points, pd.DataFrame):
            raise SimInputError(
                "give the parameter names (or points as a DataFrame)", field="names"
            )
        names = [str(c) for c in points.columns]
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise SimInputError("expected a list of dotted parameter names", field="names", found=names)
    names = tuple(names)
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise SimInputError("a parameter is named twice", field="names", found=twice)
    if isinstance(points, pd.DataFrame):
        points = points[list(names)]
    try:
        values = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise SimInputError("expected numbers", field="points") from None
    if values.ndim != 2 or values.shape[1] != len(names) or values.shape[0] == 0:
        raise SimInputError(
            f"expected a table of at least one point with one value per name ({len(names)})",
            field="points",
            found=f"shape {values.shape}",
        )
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        p, k = bad[0]
        raise SimInputError(
            f"points[{p}]: not a finite number", field=names[k], found=float(values[p, k])
        )
    return names, values


def _check_int(field: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SimInputError(f"must be an integer >= {low}", field=field, found=value)


def _check_points(
    sc: Scenario, params: Params, names: tuple[str, ...], values: np.ndarray
) -> tuple[bool, ...]:
    """Check every point as a scenario (as `simulate` checks overrides); return which names are
    integers (months, counts), whose values must be whole numbers.
    """
    known = sc.parameters()
    integer = []
    for k, name in enumerate(names):
        if name not in known:
            close = similar(name, known)
            raise SimInputError(
                "unknown parameter" + (f"; did you mean {', '.join(close)}?" if close else ""),
                file=sc.source,
                field=name,
                allowed=", ".join(close) or "a dotted name from `sim run --list-parameters`",
            )
        if name not in params.locate:
            raise SimInputError(
                "a point cannot vary this number",
                file=sc.source,
                field=name,
                allowed="the months argument" if name == "scenario.months" else None,
            )
        integer.append(getattr(params, params.locate[name][0]).dtype.kind in "iu")
        if integer[-1] and not np.all(values[:, k] == np.round(values[:, k])):
            p = int(np.flatnonzero(values[:, k] != np.round(values[:, k]))[0])
            raise SimInputError(
                f"points[{p}]: expected a whole number", field=name, found=float(values[p, k])
            )
    for p, row in enumerate(values):
        point = {n: int(v) if i else float(v) for n, v, i in zip(names, row, integer, strict=True)}
        try:
            sc.with_overrides(point)
        except SimInputError as exc:
            raise exc.prefixed(f"points[{p}]: ") from None
    return tuple(integer)


def _point_means(runs: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Mean of each numeric or true/false outcome per point, as floats."""
    skip = {"scenario", "seed", "point", "replicate", *names}
    cols = [
        c
        for c in runs.columns
        if c not in skip
        and (pd.api.types.is_bool_dtype(runs[c]) or pd.api.types.is_numeric_dtype(runs[c]))
    ]
    table = runs[cols].astype(np.float64)
    table.index = pd.Index(runs["point"], name="point")
    return table.groupby(level="point").mean()
