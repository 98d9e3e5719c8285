"""Forecast ensembles: seeded runs of a scenario whose parameters carry their uncertainty.

A backtest or a sealed forecast needs runs whose spread includes what is not known about the
parameters, not only the model's own randomness. Each run draws its own parameter set from one
of three sources, and says which:

- ``evidence``: every number with a range in the scenario's evidence table (low < high) drawn
  independently and uniformly within it (whole numbers for months): the honest prior;
- ``posterior``: particles of a calibration directory (`sim calibrate`), drawn by weight with
  `sim.validation.calibration.posterior.Posterior.draw` (run r takes its own particle); the
  calibration must be of the scenario or of one it extends. Parameters the calibration did not
  learn keep the scenario's values;
- ``point``: the scenario's own values for every run (randomness of the runs only).

Parameter draws use their own seeded streams, apart from the runs' counter-based streams, so
the same seed gives the same ensemble, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import SimInputError
from sim.model import engine, rng
from sim.model.params import Params, compile_params
from sim.scenario import Scenario, load
from sim.scenario.evidence import scenario_evidence
from sim.validation.calibration import posterior as posterior_mod

SOURCES = ("evidence", "posterior", "point")
_DRAW_SALT = 0x5EED_2015  # separates parameter draws from the runs' streams
CHUNK = 1000  # runs simulated together; results do not depend on it


@dataclass(frozen=True)
class Ensemble:
    """Runs of one scenario with their parameter sets, weights and provenance."""

    scenario: Scenario
    params: Params  # one row per run (or one shared row for point values)
    traj: engine.Trajectory
    weights: np.ndarray  # (R,), sum 1
    source: str  # evidence, posterior or point
    varied: tuple[str, ...]  # the dotted names whose values differ between runs
    seed: int
    post: posterior_mod.Posterior | None = None  # the calibration the runs drew from

    @property
    def posterior(self) -> str | None:
        """The calibration directory the runs drew their parameters from, if any."""
        return self.post.path if self.post is not None else None

    @property
    def posterior_sha256(self) -> str | None:
        """SHA-256 of that calibration's posterior.parquet, if any."""
        return self.post.sha256 if self.post is not None else None

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.weights)

    def describe(self) -> str:
        """One line saying where the runs' parameters come from."""
        if self.source == "point":
            return "the scenario's point values (randomness of the runs only)"
        if self.source == "evidence":
            return (
                f"{len(self.varied)} parameters drawn uniformly within their evidence ranges, "
                "one draw per run"
            )
        return f"posterior {self.posterior} ({len(self.varied)} parameters), drawn by weight"


def evidence_draws(
    scenario_path: str | Path, params: Params, runs: int, seed: int
) -> dict[str, np.ndarray]:
    """One uniform draw per run for every parameter with an evidence range (low < high)."""
    gen = np.random.default_rng(np.random.SeedSequence([seed, _DRAW_SALT]))
    out: dict[str, np.ndarray] = {}
    for entry in scenario_evidence(scenario_path):
        if entry.fixed or entry.name not in params.locate:
            continue
        if entry.integer:
            out[entry.name] = gen.integers(int(entry.low), int(entry.high) + 1, runs)
        else:
            out[entry.name] = gen.uniform(entry.low, entry.high, runs)
    return out


def simulate(params: Params, seed: int, runs: int, months: int) -> engine.Trajectory:
    """``runs`` runs (point 0, replicates 0..runs-1 of ``seed``), in chunks."""
    parts = []
    for start in range(0, runs, CHUNK):
        reps = np.arange(start, min(start + CHUNK, runs))
        keys = rng.run_keys(seed, np.zeros(len(reps), dtype=np.int64), reps)
        parts.append(engine.simulate(params.take(reps), keys, months))
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return engine.Trajectory(
        pairs=first.pairs,
        alignment=np.concatenate([p.alignment for p in parts]),
        actions=np.concatenate([p.actions for p in parts]),
        fired=np.concatenate([p.fired for p in parts]),
        offers=np.concatenate([p.offers for p in parts]),
        start=first.start,
    )


def build(
    scenario_path: str | Path,
    runs: int,
    seed: int,
    months: int | None = None,
    source: str = "evidence",
    posterior: str | Path | None = None,
) -> Ensemble:
    """Run the ensemble: ``runs`` runs of the scenario file with parameters from ``source``."""
    if source not in SOURCES:
        raise SimInputError("unknown parameter source", found=source, allowed=", ".join(SOURCES))
    if (source == "posterior") != (posterior is not None):
        raise SimInputError("a posterior source needs a posterior (and only it does)")
    if runs < 1:
        raise SimInputError("must be at least 1", field="--replicates", found=runs)
    sc = load(scenario_path)
    base = compile_params(sc)
    months = sc.months if months is None else int(months)
    post = None
    if source == "evidence":
        draws = evidence_draws(scenario_path, base, runs, seed)
    elif source == "posterior":
        post = posterior_mod.load(posterior)
        posterior_mod.check_scenario(post, sc)
        draws = post.draw(runs, seed)
    else:
        draws = {}
    params = base.assign(draws)
    return Ensemble(
        scenario=sc,
        params=params,
        traj=simulate(params, seed, runs, months),
        weights=np.full(runs, 1.0 / runs),
        source=source,
        varied=tuple(draws),
        seed=seed,
        post=post,
    )
