"""Stylized facts: the source article's own assessments as validation targets.

The checks are declared beside the scenario (`sim.validation.facts.checks`): what the article says
(with claim ids), the statistic that measures it on a seeded set of runs, the threshold and why
that threshold. They are targets, not inputs: the scenario's weights come from the evidence
table (`sim.scenario.evidence`), and a check that fails with honest weights is reported as
failing. Counterfactual checks rerun the scenario with named overrides and the same seed, so
both arms see the same random numbers (common random numbers) and the comparison is paired.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import engine, outcomes, rng
from sim.model.params import Params, compile_params
from sim.scenario import Scenario
from sim.validation.facts import checks as checks_mod
from sim.validation.facts.checks import CheckSpec, paired_interval, wilson
from sim.validation.facts.settings import DEFAULT_REPLICATES, DEFAULT_SEED

OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Target:
    """A threshold on a statistic, e.g. ``Target("<=", 0.2)``."""

    op: str
    value: float

    def met(self, statistic: float) -> bool:
        """Whether ``statistic`` meets the target (never for NaN)."""
        return bool(not math.isnan(statistic) and OPS[self.op](statistic, self.value))

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one stylized-fact check on one seeded set of runs.

    ``kind`` says what ``statistic`` is: a ``share`` (``interval`` is Wilson 95%), a paired
    ``difference`` (``interval`` is a normal 95% interval of the mean) or a ``ratio``.
    ``passed`` is None when the scenario lacks what the check needs (not applicable).
    """

    name: str
    claims: tuple[str, ...]
    statement: str
    measure: str
    statistic: float
    target: Target
    why: str
    passed: bool | None
    runs: int
    seed: int
    months: int
    interval: tuple[float, float] | None = None
    detail: str = ""
    kind: str = "share"


@dataclass(frozen=True)
class Sample:
    """One seeded set of runs: trajectories and the run table."""

    scenario: Scenario
    params: Params
    traj: engine.Trajectory
    runs: pd.DataFrame
    seed: int

    @property
    def months(self) -> int:
        """Simulated months per run."""
        return self.traj.months


def run_sample(
    scenario: Scenario,
    replicates: int,
    seed: int,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    posterior: Any = None,
) -> Sample:
    """Simulate ``replicates`` runs (point 0, so the same seed gives the same uniforms);
    with a ``posterior``, run r takes its r-th draw (names in ``overrides`` keep theirs).
    """
    sc = scenario.with_overrides(overrides or {})
    params = compile_params(sc)
    draws = posterior.draw(replicates, seed) if posterior is not None else {}
    draws = {n: v for n, v in draws.items() if n not in (overrides or {})}
    params = params.assign(draws) if draws else params
    reps = np.arange(replicates)
    keys = rng.run_keys(seed, np.zeros(replicates, dtype=np.int64), reps)
    traj = engine.simulate(params, keys, months)
    return Sample(sc, params, traj, outcomes.run_table(traj, params, reps), seed)


Rerun = Callable[[Mapping[str, Any]], Sample]

__all__ = ["paired_interval", "wilson"]


def evaluate(spec: CheckSpec, base: Sample, rerun: Rerun) -> CheckResult:
    """Run one declared check on a sample (rerunning it with overrides where the check asks)."""
    stat, interval, detail, kind, applicable = checks_mod.statistic(spec, base, rerun)
    target = Target(spec.op, spec.target)
    return CheckResult(
        name=spec.id,
        claims=spec.claims,
        statement=spec.statement,
        measure=checks_mod.measure(spec),
        statistic=float(stat),
        target=target,
        why=spec.why,
        passed=target.met(float(stat)) if applicable else None,
        runs=len(base.runs),
        seed=base.seed,
        months=base.months,
        interval=interval,
        detail=detail,
        kind=kind,
    )


def scenario_checks(scenario: Scenario) -> tuple[CheckSpec, ...]:
    """The checks declared for a scenario (beside its file, or its base's); none if none."""
    if not Path(scenario.source).is_file():  # built in Python: no file to sit beside
        return ()
    path = checks_mod.checks_path(scenario.source)
    return checks_mod.load_checks(path, scenario) if path else ()


def validate(
    scenario: Scenario,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    months: int | None = None,
    checks: tuple[CheckSpec, ...] | None = None,
    posterior: Any = None,
) -> list[CheckResult]:
    """Run every declared stylized-fact check on ``replicates`` seeded runs of ``scenario``
    (each drawing its parameters from ``posterior`` when given).
    """
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    specs = scenario_checks(scenario) if checks is None else checks
    base = run_sample(scenario, replicates, seed, months, posterior=posterior)

    def rerun(overrides: Mapping[str, Any]) -> Sample:
        return run_sample(scenario, replicates, seed, base.months, overrides, posterior)

    return [evaluate(spec, base, rerun) for spec in specs]


def at_range_ends(
    scenario: Scenario,
    ranges: Mapping[str, tuple[float, float]],
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    months: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> pd.DataFrame:
    """Every check rerun with one parameter at a time set to each end of its evidence range.

    ``ranges`` maps dotted parameter names to (low, high), e.g. from
    `sim.scenario.evidence.evidence_ranges`. Shows how robust each pass is to honest
    disagreement about one number. Returns one row per (parameter, end, check): parameter,
    end ("low"/"high"), value, check, statistic, passed. ``progress(1)`` is called after each
    (parameter, end), ``2 * len(ranges)`` times in all.
    """
    rows = []
    specs = scenario_checks(scenario)
    for name, (low, high) in ranges.items():
        for end, value in (("low", low), ("high", high)):
            sc = scenario.with_overrides({name: value})
            for r in validate(sc, replicates, seed, months, specs):
                rows.append(
                    {
                        "parameter": name,
                        "end": end,
                        "value": float(value),
                        "check": r.name,
                        "statistic": r.statistic,
                        "passed": r.passed,
                    }
                )
            if progress:
                progress(1)
    return pd.DataFrame(rows)


def joint(
    scenario: Scenario,
    ranges: Mapping[str, tuple[float, float]],
    settings: int,
    replicates: int = 500,
    seed: int = DEFAULT_SEED,
    months: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Every check at ``settings`` parameter settings drawn jointly from the evidence ranges.

    A Latin hypercube (scipy's, seeded by ``seed``) over every parameter whose range is not a
    single value; integer parameters are rounded. Shows whether the checks can tell settings
    apart: a check that passes almost everywhere carries little information. Returns one row
    per (setting, check): setting, check, statistic, passed, plus the setting's P(betrayal)
    and P(partnership) where the scenario declares them.
    """
    from scipy.stats import qmc

    specs = scenario_checks(scenario)
    known = scenario.parameters()
    free = {k: v for k, v in ranges.items() if v[0] < v[1] and k in known}
    names = sorted(free)
    rows = []
    if not names:
        return pd.DataFrame(rows)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(settings)
    lows = np.array([free[n][0] for n in names])
    highs = np.array([free[n][1] for n in names])
    values = lows + unit * (highs - lows)
    for s in range(settings):
        point = {}
        for k, name in enumerate(names):
            v = values[s, k]
            point[name] = int(round(v)) if isinstance(known[name], int) else float(v)
        sc = scenario.with_overrides(point)
        base = run_sample(sc, replicates, seed, months)

        def rerun(overrides: Mapping[str, Any], sc: Scenario = sc, base: Sample = base) -> Sample:
            return run_sample(sc, replicates, seed, base.months, overrides)

        extra = {
            f"P({o.id})": float(base.runs[o.id].mean()) for o in sc.outcomes if outcomes.of(o).event
        }
        for spec in specs:
            r = evaluate(spec, base, rerun)
            rows.append(
                {"setting": s, "check": r.name, "statistic": r.statistic, "passed": r.passed}
                | extra
            )
        if progress:
            progress(1)
    return pd.DataFrame(rows)


def results_table(results: list[CheckResult]) -> pd.DataFrame:
    """The results as a DataFrame, one row per check."""
    rows = []
    for r in results:
        lo, hi = r.interval if r.interval else (math.nan, math.nan)
        rows.append(
            {
                "check": r.name,
                "claims": ", ".join(r.claims),
                "statistic": r.statistic,
                "low95": lo,
                "high95": hi,
                "kind": r.kind,
                "target": str(r.target),
                "passed": r.passed,
                "runs": r.runs,
                "months": r.months,
                "seed": r.seed,
            }
        )
    return pd.DataFrame(rows)
