"""A calibration problem: the scenario, the parameters to learn and the observations, with a
vectorised simulator from parameter values to the observations' summary statistics.

Row b of a batch runs the scenario with its own parameter values (`Params.assign`) through the
array engine on the stream of evaluation id ``ids[b]`` (`sim.model.rng.run_keys` with
``(seed, id, 0)``); the measurement model's error term draws from the stream ``(seed, id, 1)``.
So a batch's results depend only on the seed and the ids, not on how evaluations are batched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.errors import SimInputError
from sim.model import engine, rng
from sim.model.params import Params, compile_params
from sim.scenario import Scenario
from sim.validation.data import measurement as ms
from sim.validation.data import source as data_sources

# Prefixes of parameters a calibration never learns: what an outcome means, dates and counts.
NOT_CALIBRATED = ("outcomes.", "scenario.", "regimes.")


@dataclass(frozen=True)
class Problem:
    """What a calibration simulates: names, priors, observations and the compiled scenario."""

    scenario: Scenario
    params: Params
    names: tuple[str, ...]  # scenario parameters learned, then the measurement parameters
    low: np.ndarray  # (D,) prior lower bounds (uniform priors), in ``names`` order
    high: np.ndarray  # (D,) prior upper bounds
    reasons: tuple[str, ...]  # why each prior has its bounds
    declaration: ms.Measurement
    data: data_sources.DataSource  # the kind of data fitted, named by the declaration
    observed: ms.Observed
    months: int
    seed: int
    until: int  # the cutoff: no session after this year was read
    data_file: str
    data_sha256: str

    @property
    def model_names(self) -> tuple[str, ...]:
        """The scenario parameters learned (without the measurement parameters)."""
        return tuple(n for n in self.names if n not in self.data.parameters)

    @property
    def statistics(self) -> tuple[str, ...]:
        """Names of the summary statistics."""
        return self.data.summary_names(self.observed)

    def observed_statistics(self) -> dict[str, float]:
        """The observed summary statistics, by name."""
        values = self.data.summaries(self.observed.distance[None], self.observed)[0]
        return dict(zip(self.statistics, map(float, values), strict=True))

    def distances(self, theta: np.ndarray, ids: np.ndarray, noise: bool = True) -> np.ndarray:
        """Simulated observations (B, P, Y) for parameter rows ``theta`` (B, D).

        ``noise=False`` gives the measurement model's expectation given the simulated path.
        """
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        ids = np.asarray(ids, dtype=np.int64)
        col = {n: theta[:, k] for k, n in enumerate(self.names)}
        model = {n: col[n] for n in self.model_names}
        params = self.params.assign(model) if model else self.params
        keys = rng.run_keys(self.seed, ids, np.zeros(len(ids), dtype=np.int64))
        traj = engine.simulate(params, keys, self.months)
        idx = {a: i for i, a in enumerate(self.params.actors)}
        series = {(a, b): traj.pair_series(idx[a], idx[b]) for a, b in self.declaration.pairs}
        aligned = ms.session_alignment(
            series, self.declaration, self.observed.years, self.params.start
        )
        initial = ms.initial_alignment(series, self.declaration)
        normals = None
        if noise:
            shape = aligned.shape
            nkeys = rng.run_keys(self.seed, ids, np.ones(len(ids), dtype=np.int64))
            u = rng.uniforms(nkeys, 0, shape[1] * shape[2])
            normals = ndtri(np.clip(u, 1e-12, 1 - 1e-12)).reshape(shape)
        measured = {n: col[n] for n in self.data.parameters}
        return self.data.predict(aligned, initial, self.observed, measured, normals)

    def simulate(self, theta: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Summary statistics (B, S) of one simulated world per parameter row."""
        return self.data.summaries(self.distances(theta, ids), self.observed)

    def simulate_dicts(self, theta: np.ndarray, ids: np.ndarray) -> list[dict[str, float]]:
        """`simulate` as one dict per row (what pyabc compares)."""
        names = self.statistics
        return [dict(zip(names, map(float, row), strict=True)) for row in self.simulate(theta, ids)]

    def simulate_one(self, pars: dict) -> dict[str, float]:
        """One particle for pyabc's own samplers (multicore, Dask).

        Those samplers reseed numpy in each worker from the operating system, so their
        evaluation ids, and results, differ between runs; the batch sampler's do not.
        """
        theta = np.array([[float(pars[n]) for n in self.names]])
        ids = np.array([np.random.randint(0, 2**62)])
        return self.simulate_dicts(theta, ids)[0]


def candidates(params: Params, ranges: dict[str, tuple[float, float]]) -> tuple[str, ...]:
    """Scenario parameters a calibration may learn: a real-valued number with an evidence range
    of some width that a parameter row can set (not outcome definitions, dates or counts).
    """
    out = []
    for name, (lo, hi) in ranges.items():
        if hi <= lo or name.startswith(NOT_CALIBRATED) or name not in params.locate:
            continue
        if getattr(params, params.locate[name][0]).dtype.kind != "f":
            continue
        out.append(name)
    return tuple(out)


def build(
    scenario: Scenario,
    scenario_path: str,
    names: Sequence[str],
    ranges: dict[str, tuple[float, float]],
    data_until: int,
    seed: int,
    data_path: str | None = None,
) -> Problem:
    """Assemble a problem: the named scenario parameters (priors: their evidence ranges) plus
    the measurement parameters (priors from the data before the observed years).
    """
    params = compile_params(scenario)
    allowed = candidates(params, ranges)
    for name in names:
        if name not in allowed:
            raise SimInputError(
                "cannot be calibrated (needs a real-valued number with an evidence range)",
                file=scenario.source,
                field=name,
                allowed="see `sim evidence`: e.g. " + ", ".join(allowed[:3]),
            )
    decl = ms.load_declaration(scenario_path, scenario.actor_ids)
    source = data_sources.get(decl)
    data = source.load(data_until, data_path or decl.data_path())
    years = getattr(data, "years", None)  # a data source's sessions, where it has them
    if years is not None and len(years) and data_until > years[-1]:
        # a cutoff after the data's end claims a calibration on years nobody observed
        raise SimInputError(
            "after the last session in the data",
            file=data.source,
            field="--until",
            found=data_until,
            allowed=f"a year from {decl.anchor[1] + 1} to {years[-1]}",
        )
    obs = source.observe(decl, data, scenario.start, months=None)
    months = ms.months_needed(decl, obs.years, scenario.start)
    meas = source.priors(decl, data)
    return Problem(
        scenario=scenario,
        params=params,
        names=(*names, *(p.name for p in meas)),
        low=np.array([ranges[n][0] for n in names] + [p.low for p in meas]),
        high=np.array([ranges[n][1] for n in names] + [p.high for p in meas]),
        reasons=(*("evidence range" for _ in names), *(p.reason for p in meas)),
        declaration=decl,
        data=source,
        observed=obs,
        months=months,
        seed=seed,
        until=data_until,
        data_file=data.source,
        data_sha256=data.sha256,
    )
