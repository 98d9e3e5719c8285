"""A calibration's posterior in use: read it, draw parameter sets for replicates, predict.

A calibration directory (`sim calibrate`) holds the weighted particles in ``posterior.parquet``.
`draw` gives each replicate its own parameter set: replicate r takes the particle at the
weighted inverse CDF of a uniform from the counter-based stream (seed, `STREAM`, r), so a
replicate's draw depends on the seed and its index only (not on how many replicates run or how
they are chunked): same seed, same draws; another seed, other draws. Apply the draws with
`Params.assign` (or pass the `Posterior` to `sim.api.simulate`, which does). `draw_measurement`
gives the same particles' measurement parameters (offset, scale, noise of the calibration's
measurement model), for forecasts of measured quantities.

A posterior calibrated on a scenario serves that scenario and every scenario that extends it
(`check_scenario`): a variant adds regimes or changes numbers the calibration did not learn.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.model import rng
from sim.results import read_marked
from sim.scenario import Scenario, files, read_toml
from sim.scenario.evidence import extends_chain
from sim.scenario.limits import MAX_DATA_BYTES
from sim.validation.data.measurement import PARAMETERS as MEASUREMENT

KIND = "calibration"
FILE = "posterior.parquet"
STREAM = 0xCA11B  # the 'point' index of the draws' streams, apart from any run's
NOTE = "intervals include parameter uncertainty (posterior {path})"


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets of a calibration (scenario parameters only)."""

    path: str
    scenario: str  # name of the calibrated scenario
    until: int  # the calibration's data cutoff
    names: tuple[str, ...]
    values: np.ndarray  # (n, D)
    weights: np.ndarray  # (n,) summing to 1
    sha256: str = ""  # of posterior.parquet's bytes
    measurement_names: tuple[str, ...] = ()  # the measurement parameters calibrated with them
    measurement_values: np.ndarray | None = None  # (n, M)

    @property
    def note(self) -> str:
        """What an interval computed with these draws covers."""
        return NOTE.format(path=self.path)

    def indices(self, replicates: int, seed: int) -> np.ndarray:
        """Particle index of each replicate 0..replicates-1 under ``seed``."""
        keys = rng.run_keys(seed, np.full(replicates, STREAM), np.arange(replicates))
        u = rng.uniforms(keys, 0, 1)[:, 0]
        cdf = np.cumsum(self.weights)
        return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(cdf) - 1)

    def draw(self, replicates: int, seed: int) -> dict[str, np.ndarray]:
        """Per-replicate values of each calibrated scenario parameter, by dotted name."""
        idx = self.indices(replicates, seed)
        return {n: self.values[idx, k] for k, n in enumerate(self.names)}

    def draw_measurement(self, replicates: int, seed: int) -> dict[str, np.ndarray]:
        """Per-replicate measurement parameters of the particles `draw` gives the same
        replicates (the joint posterior, not independent marginals).
        """
        idx = self.indices(replicates, seed)
        values = self.measurement_values
        return {n: values[idx, k] for k, n in enumerate(self.measurement_names)}


def read_metadata(path: str | Path) -> dict:
    """The metadata of a calibration directory, or a `SimInputError`."""
    return read_marked(path, "calibration directory", "kind", KIND, "not a calibration directory")


def load(path: str | Path) -> Posterior:
    """Read a calibration directory's posterior (checked: the scenario it names, columns,
    finite values, weights).
    """
    path = Path(path)
    meta = read_metadata(path)
    where = str(path / "metadata.json")
    scenario = meta.get("scenario_name")
    if not isinstance(scenario, str) or not scenario:
        raise SimInputError(
            "a calibration must name the scenario it was calibrated on",
            file=where,
            field="scenario_name",
            allowed="the scenario's name, as `sim calibrate` writes it",
        )
    until = meta.get("until")
    if isinstance(until, bool) or not isinstance(until, int):
        raise SimInputError("expected a year", file=where, field="until", found=until)
    calibrated = meta.get("parameters_calibrated", [])
    if not isinstance(calibrated, list) or not all(isinstance(n, str) for n in calibrated):
        raise SimInputError(
            "expected a list of dotted parameter names", file=where, field="parameters_calibrated"
        )
    file = path / FILE
    data = files.read_bytes(file, (".parquet",), MAX_DATA_BYTES)
    try:
        table = pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError) as exc:
        raise SimInputError(f"unreadable posterior: {exc}", file=str(file)) from None
    names = tuple(n for n in calibrated if n not in MEASUREMENT)
    measured = tuple(n for n in calibrated if n in MEASUREMENT)
    missing = [n for n in (*names, *measured, "weight") if n not in table.columns]
    if missing:
        raise SimInputError("column missing", file=str(file), field=missing[0])
    try:
        values = table[list(names)].to_numpy(dtype=float)
        extra = table[list(measured)].to_numpy(dtype=float)
        weights = table["weight"].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise SimInputError("expected numbers in every column", file=str(file)) from None
    finite = np.isfinite(values).all() and np.isfinite(extra).all()
    if len(table) == 0 or not finite or not np.isfinite(weights).all():
        raise SimInputError("expected finite values in every row", file=str(file))
    if (weights < 0).any() or weights.sum() <= 0:
        raise SimInputError("weights must be >= 0 with a positive sum", file=str(file))
    return Posterior(
        path=str(path),
        scenario=scenario,
        until=until,
        names=names,
        values=values,
        weights=weights / weights.sum(),
        sha256=hashlib.sha256(data).hexdigest(),
        measurement_names=measured,
        measurement_values=extra,
    )


def lineage(scenario: Scenario) -> tuple[str, ...]:
    """The scenario's name, then the names of the scenarios it extends (nearest first).

    Read along ``scenario.extends`` from the scenario's file; a scenario without a file (built
    in memory) has only its own name.
    """
    if not Path(scenario.source).is_file():
        return (scenario.name,)
    names = [scenario.name]
    for path in extends_chain(scenario.source)[1:]:
        meta = read_toml(path).get("scenario")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        if isinstance(name, str) and name not in names:
            names.append(name)
    return tuple(names)


def check_scenario(posterior: Posterior, scenario: Scenario) -> None:
    """Refuse a posterior calibrated on a scenario that is neither this one nor one it
    extends, or one that learned a number the scenario does not have.
    """
    names = lineage(scenario)
    if posterior.scenario not in names:
        raise SimInputError(
            "posterior was calibrated on another scenario (neither this one nor one it extends)",
            file=posterior.path,
            field="scenario",
            found=posterior.scenario,
            allowed=", ".join(names),
        )
    known = scenario.parameters()
    for name in posterior.names:
        if name not in known:
            raise SimInputError(
                "not a parameter of the scenario",
                file=str(Path(posterior.path) / FILE),
                field=name,
                allowed=f"dotted names of {scenario.name} (`sim run SCENARIO --list-parameters`)",
            )
    check_ranges(posterior, scenario)


def check_ranges(posterior: Posterior, scenario: Scenario) -> None:
    """Refuse a posterior whose values leave the scenario's ranges (a hazard of 7.0): each
    parameter's smallest and largest value is checked as the scenario checks its own numbers.
    """
    for k, name in enumerate(posterior.names):
        column = posterior.values[:, k]
        for value in (column.min(), column.max()):
            try:
                scenario.with_overrides({name: float(value)})
            except SimInputError as exc:
                raise SimInputError(
                    f"posterior value outside the scenario's range ({exc.detail})",
                    file=str(Path(posterior.path) / FILE),
                    field=name,
                    found=float(value),
                    allowed=exc.allowed,
                ) from None
