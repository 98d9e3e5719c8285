"""A calibration's posterior in use: read it, draw parameter sets for replicates, predict.

A calibration directory (`sim calibrate`) holds the weighted particles in ``posterior.parquet``.
`draw` gives each replicate its own parameter set: replicate r takes the particle at the
weighted inverse CDF of a uniform from the counter-based stream (seed, `STREAM`, r), so a
replicate's draw depends on the seed and its index only (not on how many replicates run or how
they are chunked): same seed, same draws; another seed, other draws. Apply the draws with
`Params.assign` (or pass the `Posterior` to `sim.api.simulate`, which does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.model import rng
from sim.validation.measurement import PARAMETERS as MEASUREMENT

KIND = "calibration"
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


def read_metadata(path: str | Path) -> dict:
    """The metadata of a calibration directory, or a `SimInputError`."""
    meta_path = Path(path) / "metadata.json"
    if not meta_path.is_file():
        raise SimInputError("not a calibration directory (no metadata.json)", file=str(path))
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SimInputError(f"unreadable metadata.json: {exc}", file=str(meta_path)) from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise SimInputError(
            "not a calibration directory",
            file=str(meta_path),
            field="kind",
            found=meta.get("kind") if isinstance(meta, dict) else None,
            allowed=KIND,
        )
    return meta


def load(path: str | Path) -> Posterior:
    """Read a calibration directory's posterior (checked: columns, finite values, weights)."""
    path = Path(path)
    meta = read_metadata(path)
    file = path / "posterior.parquet"
    try:
        table = pd.read_parquet(file)
    except (OSError, ValueError) as exc:
        raise SimInputError(f"unreadable posterior: {exc}", file=str(file)) from None
    names = tuple(n for n in meta.get("parameters_calibrated", []) if n not in MEASUREMENT)
    missing = [n for n in (*names, "weight") if n not in table.columns]
    if missing:
        raise SimInputError("column missing", file=str(file), field=missing[0])
    values = table[list(names)].to_numpy(dtype=float)
    weights = table["weight"].to_numpy(dtype=float)
    if len(table) == 0 or not np.isfinite(values).all() or not np.isfinite(weights).all():
        raise SimInputError("expected finite values in every row", file=str(file))
    if (weights < 0).any() or weights.sum() <= 0:
        raise SimInputError("weights must be >= 0 with a positive sum", file=str(file))
    return Posterior(
        path=str(path),
        scenario=str(meta.get("scenario_name", "")),
        until=int(meta.get("until", 0)),
        names=names,
        values=values,
        weights=weights / weights.sum(),
    )


def check_scenario(posterior: Posterior, scenario_name: str) -> None:
    """Refuse a posterior calibrated on another scenario than the run's base."""
    if posterior.scenario and posterior.scenario != scenario_name:
        raise SimInputError(
            "posterior was calibrated on another scenario",
            file=posterior.path,
            field="scenario",
            found=posterior.scenario,
            allowed=scenario_name,
        )
