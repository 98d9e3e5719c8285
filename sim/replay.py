"""Replays: rerun runs exactly as they were simulated, from a scenario or a results directory.

A run is a pure function of (parameters, seed, point, replicate, months): its random stream is
keyed by (seed, point, replicate) (`sim.model.rng`). A `Replay` holds the first three and the
horizon, so any replicate can be simulated again, alone or with others, and gives the same
trajectory it gave when the results were written. `from_results` reads a results directory's
metadata (the resolved scenario, seed and overrides of `sim run`; the design point's values of
`sim sweep`) and `check` compares a replayed run with the stored one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import results
from sim.errors import SimInputError
from sim.model import engine, outcomes, rng
from sim.model.engine import Month, Trajectory
from sim.model.params import Params, compile_params
from sim.scenario import Scenario, as_scenario, calendar, from_dict
from sim.scenario.limits import MAX_MONTHS, MAX_REPLICATES, MAX_SEED, check_whole


@dataclass(frozen=True)
class Replay:
    """Everything needed to rerun some runs exactly.

    ``replicates`` is how many replicates the source holds (or asks for); ``stored`` is the
    stored run table of the point (results directories only), to check a replay against.
    """

    scenario: Scenario
    params: Params
    seed: int
    point: int
    months: int
    replicates: int
    source: str
    stored: pd.DataFrame | None = None

    def keys(self, replicates: np.ndarray) -> np.ndarray:
        """Stream keys of some replicates of this point."""
        reps = np.asarray(replicates, dtype=np.int64)
        return rng.run_keys(self.seed, np.full(len(reps), self.point), reps)

    def simulate(self, replicates: np.ndarray) -> Trajectory:
        """Rerun some replicates with the array engine."""
        return engine.simulate(self.params, self.keys(replicates), self.months)

    def steps(self, replicates: np.ndarray) -> Iterator[Month]:
        """Rerun some replicates month by month (`sim.model.engine.steps`)."""
        return engine.steps(self.params, self.keys(replicates), self.months)

    def month_of(self, month: int | None = None, date: str | None = None) -> int:
        """A simulated month from a month number or a calendar date ("YYYY-MM"), checked
        against the horizon.
        """
        if (month is None) == (date is None):
            raise SimInputError("give a month or a date (not both)", field="--month/--date")
        field, found = ("--month", month) if date is None else ("--date", date)
        if date is not None:
            try:
                month = calendar.month_of(date, self.scenario.start)
            except ValueError:
                raise SimInputError(
                    "not a month", field="--date", found=date, allowed=calendar.FORMAT
                ) from None
        if not 1 <= int(month) <= self.months:
            last = calendar.date_of(self.months, self.scenario.start)
            raise SimInputError(
                "outside the simulated months",
                field=field,
                found=found,
                allowed=f"1 to {self.months} ({self.scenario.start} to {last})",
            )
        return int(month)

    def check_replicate(self, replicate: int) -> None:
        """Refuse a replicate the source does not hold."""
        if not 0 <= replicate < self.replicates:
            raise SimInputError(
                "no such replicate",
                field="--replicate",
                found=replicate,
                allowed=f"0 to {self.replicates - 1} ({self.source})",
            )


def from_scenario(
    scenario: str | Path | Scenario,
    overrides: Mapping[str, Any] | None = None,
    seed: int = 0,
    replicates: int = 100,
    months: int | None = None,
    point: int = 0,
) -> Replay:
    """A replay of a scenario's runs as `sim.api.simulate` makes them (same keys)."""
    sc = as_scenario(scenario, overrides)
    return Replay(
        scenario=sc,
        params=compile_params(sc),
        seed=int(seed),
        point=int(point),
        months=sc.months if months is None else int(months),
        replicates=int(replicates),
        source=f"scenario {sc.source}",
    )


def from_results(path: str | Path, point: int | None = None) -> Replay:
    """A replay of the runs stored in a `sim run` or `sim sweep` results directory.

    A sweep's runs need ``point`` (a design point index); a run's results are point 0.
    """
    path = Path(path)
    meta = results.read_metadata(path)
    raw = meta.get("scenario")
    if not isinstance(raw, Mapping):
        raise SimInputError("metadata lacks the resolved scenario", file=str(path))
    sc = from_dict(raw, str(meta.get("scenario_source") or path))
    params = compile_params(sc)
    where = str(path / "metadata.json")
    # Numbers of a file sim wrote, checked as any input: a forged one must not allocate 22 GiB.
    seed = check_whole(meta.get("seed", 0), "seed", 0, MAX_SEED, file=where)
    months = check_whole(meta.get("months") or sc.months, "months", 1, MAX_MONTHS, file=where)
    reps = check_whole(meta.get("replicates", 0), "replicates", 0, MAX_REPLICATES, file=where)
    if meta.get("kind") == "sweep":
        return _sweep_point(path, meta, sc, params, seed, months, reps, point)
    if point not in (None, 0):
        raise SimInputError(
            "a run's results have no design points", file=str(path), field="--point", found=point
        )
    stored = None
    if (path / "runs.parquet").exists():
        stored = pd.read_parquet(path / "runs.parquet")
        reps = reps or len(stored)
    return Replay(sc, params, seed, 0, months, reps, f"results {path}", stored)


def _sweep_point(
    path: Path,
    meta: Mapping[str, Any],
    sc: Scenario,
    params: Params,
    seed: int,
    months: int,
    reps: int,
    point: int | None,
) -> Replay:
    from sim.sweeps import runner

    points = pd.read_parquet(path / "points.parquet")
    if point is None or point not in set(points["point"]):
        raise SimInputError(
            "a sweep's runs need a design point",
            file=str(path),
            field="--point",
            found=point,
            allowed=f"0 to {int(points['point'].max())}",
        )
    row = points.loc[points["point"] == point].iloc[0]
    values = {}
    for record in meta.get("parameters", []):
        name = record["name"]
        dtype = np.int64 if record.get("integer") else np.float64
        values[name] = np.array([row[name]], dtype=dtype)
    runs = runner.read_runs(path)
    stored = runs.loc[runs["point"] == point].reset_index(drop=True)
    return Replay(
        sc,
        params.assign(values),
        seed,
        int(point),
        months,
        reps or len(stored),
        f"results {path}, point {point}",
        stored,
    )


def check(replay: Replay, replicates: np.ndarray, traj: Trajectory) -> None:
    """Check that replayed runs reproduce the stored ones (every outcome column equal).

    Raises `SimInputError` naming the first column that differs: the results were written by
    another version of the model, so an explanation would not describe them.
    """
    if replay.stored is None or replay.stored.empty:
        return
    reps = np.asarray(replicates)
    again = outcomes.run_table(traj, replay.params, reps).set_index("replicate")
    stored = replay.stored.set_index("replicate").loc[reps]
    for col in again.columns:
        if col not in stored:
            continue
        a = again[col].astype(object).where(again[col].notna(), None).tolist()
        b = stored[col].astype(object).where(stored[col].notna(), None).tolist()
        if not all(_same(x, y) for x, y in zip(a, b, strict=True)):
            raise SimInputError(
                "the stored runs cannot be reproduced (written by another version of sim?)",
                file=replay.source,
                field=col,
                allowed="results written by this version",
            )


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        return bool(np.isclose(float(a), float(b), rtol=1e-6, atol=1e-7))
    return str(a) == str(b)
