"""The agent-based model in the evaluation: alone through its measurement model, and as a drift
covariate of the core.

The scenario is run once (``runs`` replicates); each measured pair's simulated alignment is
averaged over each session's months (`measurement.session_alignment`). A session takes part only
when the simulation covers it (today's scenarios start in November 2015, so the first covered
session is 2015's; a scenario that starts in 2000 covers every origin, and nothing here changes).

- Alone, the model forecasts a pair's distance in session y as the measurement model does::

      distance = anchor + offset + scale * (a0 - a(y)) + sqrt(noise^2 + sd^2) * z

  with measurement parameters from a calibration (refused when it saw a session after the
  origin) or, without one, at the centre of their priors (which read sessions up to the anchor's
  end only).
- As a covariate, the model enters the core as a drift: ``x = mean over runs of a(o) - a(o + h)``
  (alignment lost between the origin's session and the target's; more lost, farther apart),
  times a coefficient ``beta`` estimated by least squares from the core's errors of forecasts
  whose targets are at or before the origin (`coefficient`). ``beta = 0`` gives back the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from sim.errors import SimInputError
from sim.model import engine, rng
from sim.model.params import compile_params
from sim.scenario import Scenario
from sim.validation.data import measurement as ms


@dataclass(frozen=True)
class Simulated:
    """Each pair's simulated session alignment (R, P) by covered session year, and month 0."""

    pairs: tuple[tuple[str, str], ...]
    initial: np.ndarray  # (R, P)
    sessions: Mapping[int, np.ndarray]  # year -> (R, P)
    measurement: Mapping[str, np.ndarray]  # per-run measurement parameters
    calibration_until: int | None  # the calibration's cutoff, None without one

    def covers(self, year: int) -> bool:
        """Whether the simulation covers session ``year``."""
        return year in self.sessions

    def subset(self, pairs: tuple[tuple[str, str], ...]) -> Simulated:
        """The same simulation restricted to ``pairs``, in that order."""
        cols = [self.pairs.index(p) for p in pairs]
        sessions = {y: a[:, cols] for y, a in self.sessions.items()}
        return replace(self, pairs=pairs, initial=self.initial[:, cols], sessions=sessions)

    def drift(self, origin: int, target: int) -> np.ndarray:
        """The covariate per pair (P,): mean alignment lost from ``origin`` to ``target``."""
        return (self.sessions[origin] - self.sessions[target]).mean(axis=0)


def check_calibration(until: int | None, origin: int, src: str, field: str) -> None:
    """Refuse a calibration that saw a session after the origin (a leak of the future)."""
    if until is not None and until > origin:
        raise SimInputError(
            "the calibration saw a session after this origin (a leak)",
            file=src,
            field=field,
            found=f"calibrated until {until}, origin {origin}",
            allowed=f"a calibration with --until {origin} or earlier",
        )


def simulate(
    scenario: Scenario,
    decl: ms.Measurement,
    years: range,
    runs: int,
    seed: int,
    priors: tuple[ms.Prior, ...],
    calibration: str = "",
) -> Simulated:
    """Run the scenario and average each pair's alignment over every covered session."""
    params = compile_params(scenario)
    until = None
    if calibration:
        from sim.validation.calibration import posterior as post_mod

        post = post_mod.load(calibration)
        post_mod.check_scenario(post, scenario)
        until = post.until
        params = params.assign(post.draw(runs, seed)) if post.names else params
        measured = post.draw_measurement(runs, seed)
    else:
        measured = {p.name: np.full(runs, (p.low + p.high) / 2) for p in priors}
        measured["measurement.offset"] = np.zeros(runs)  # the prior's centre, written exactly
    covered = [y for y in years if ms.session_span(y, decl, scenario.start)[1] >= 1]
    if not covered:
        return Simulated(decl.pairs, np.zeros((runs, len(decl.pairs))), {}, measured, until)
    months = ms.months_needed(decl, tuple(covered), scenario.start)
    ids = np.arange(runs, dtype=np.int64)
    traj = engine.simulate(params, rng.run_keys(seed, ids, np.zeros(runs, np.int64)), months)
    idx = {a: i for i, a in enumerate(params.actors)}
    series = {(a, b): traj.pair_series(idx[a], idx[b]) for a, b in decl.pairs}
    aligned = ms.session_alignment(series, decl, tuple(covered), scenario.start)
    sessions = {y: aligned[:, :, k] for k, y in enumerate(covered)}
    return Simulated(decl.pairs, ms.initial_alignment(series, decl), sessions, measured, until)


def alone(sim: Simulated, anchor: np.ndarray, sd: np.ndarray, target: int, seed: int) -> np.ndarray:
    """The model's own draws (P, R) of each pair's distance in session ``target``.

    ``anchor`` (P,) the pairs' anchor distances and ``sd`` (P,) their mean measurement sd, both
    from the data up to the origin.
    """
    m = sim.measurement
    scale, offset, noise = (np.asarray(m[n])[:, None] for n in ms.PARAMETERS)
    runs = sim.initial.shape[0]
    z = np.random.default_rng([seed, target]).standard_normal((runs, len(anchor)))
    mean = anchor[None] + offset + scale * (sim.initial - sim.sessions[target])
    return np.maximum(0.0, mean + np.sqrt(noise**2 + sd[None] ** 2) * z).T


@dataclass(frozen=True)
class Coefficient:
    """The model's drift coefficient at one origin, with its standard error and sample size."""

    beta: float
    se: float
    n: int

    def interval(self, z: float = 1.6448536269514722) -> tuple[float, float]:
        """Its central 90% interval (normal)."""
        return self.beta - z * self.se, self.beta + z * self.se


def coefficient(x: np.ndarray, residual: np.ndarray) -> Coefficient:
    """Least-squares coefficient of ``residual`` on ``x`` through zero (no data: 0, se NaN)."""
    x, r = np.asarray(x, dtype=float), np.asarray(residual, dtype=float)
    sxx = float((x**2).sum())
    if len(x) == 0 or sxx == 0.0:
        return Coefficient(0.0, np.nan, len(x))
    beta = float((x * r).sum() / sxx)
    dof = max(1, len(x) - 1)
    s2 = float(((r - beta * x) ** 2).sum() / dof)
    return Coefficient(beta, float(np.sqrt(s2 / sxx)), len(x))
