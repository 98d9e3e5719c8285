"""Stylized facts: the source article's own assessments as validation targets.

Each check states what the article says (with claim ids), the statistic that measures it on a
seeded set of runs, the threshold and why that threshold. The checks are targets, not inputs:
the scenario's weights come from the evidence table (`sim.evidence`), and a check that fails
with honest weights is reported as failing. Counterfactual checks rerun the scenario with a
named override and the same seed, so both arms see the same random numbers (common random
numbers) and the comparison is paired.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim import analysis
from sim.model import engine, outcomes, rng
from sim.model.params import Params, compile_params
from sim.scenario import Scenario
from sim.validation.settings import DEFAULT_REPLICATES, DEFAULT_SEED

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


def wilson(successes: float, n: int) -> tuple[float, float]:
    """Wilson score 95% interval for a binomial share (the one `sim.analysis` reports)."""
    _, low, high = analysis.wilson(int(successes), n)
    return (low, high)


def paired_interval(diff: np.ndarray, z: float = 1.959964) -> tuple[float, float]:
    """Normal 95% interval of the mean of paired differences."""
    n = len(diff)
    if n < 2:
        return (math.nan, math.nan)
    m, se = float(diff.mean()), float(diff.std(ddof=1)) / math.sqrt(n)
    return (m - z * se, m + z * se)


# --------------------------------------------------------------------------------------------
# The checks. Each takes the baseline sample and a function that reruns the scenario with
# overrides (same seed, replicates and months) and returns a CheckResult.

Rerun = Callable[[Mapping[str, Any]], Sample]


def _result(
    base: Sample,
    name: str,
    claims: tuple[str, ...],
    statement: str,
    measure: str,
    statistic: float,
    target: Target,
    why: str,
    *,
    interval: tuple[float, float] | None = None,
    detail: str = "",
    applicable: bool = True,
    kind: str = "difference",
) -> CheckResult:
    return CheckResult(
        name=name,
        claims=claims,
        statement=statement,
        measure=measure,
        statistic=float(statistic),
        target=target,
        why=why,
        passed=target.met(float(statistic)) if applicable else None,
        runs=len(base.runs),
        seed=base.seed,
        months=base.months,
        interval=interval,
        detail=detail,
        kind=kind,
    )


def _not_applicable(
    base: Sample, name: str, claims: tuple[str, ...], target: Target
) -> CheckResult:
    what = "the scenario lacks what this check needs"
    return _result(base, name, claims, what, what, math.nan, target, "", applicable=False)


def _share(
    base: Sample,
    name: str,
    claims: tuple[str, ...],
    statement: str,
    measure: str,
    hits: np.ndarray,
    target: Target,
    why: str,
    detail: str = "",
) -> CheckResult:
    hits = np.asarray(hits, dtype=bool).reshape(-1)
    n = len(hits)
    share = float(hits.mean()) if n else math.nan
    return _result(
        base,
        name,
        claims,
        statement,
        measure,
        share,
        target,
        why,
        interval=wilson(hits.sum(), n),
        detail=detail or f"{hits.sum()} of {n}",
        applicable=n > 0,
        kind="share",
    )


def no_alliance(base: Sample, rerun: Rerun) -> CheckResult:
    """C1, C2: the baseline rarely drifts into a strategic partnership."""
    p = base.scenario.partnership
    a, b = (base.scenario.label(x) for x in p["actors"])
    return _share(
        base,
        "no_alliance",
        ("C1", "C2"),
        f"No qualitative leap to a strategic {a}-{b} alliance in most runs.",
        f"P(strategic partnership): share of runs with {a}-{b} alignment above "
        f"{p['threshold']:g} for {p['months']} consecutive months",
        base.runs.partnership.to_numpy(),
        Target("<=", 0.2),
        "The article calls a qualitative lift 'unlikely' and the two 'still far away' from "
        "strategic ties; 'very unlikely' in the usual analytic scale (ICD 203) tops out at 20%.",
    )


def ties_positive(base: Sample, rerun: Rerun) -> CheckResult:
    """C2, C9: the partnership stays a partnership."""
    a, b = (base.scenario.label(x) for x in base.scenario.partnership["actors"])
    return _share(
        base,
        "ties_stay_positive",
        ("C2", "C9"),
        f"{a}-{b} ties stay positive: strong ties, agreement on many issues, Syria in common.",
        f"share of runs with final {a}-{b} alignment > 0",
        base.runs.alignment_final.to_numpy() > 0,
        Target(">=", 0.9),
        "The article expects the two to 'continue to see eye to eye' on a broad range of "
        "issues; a break in more than one run in ten would contradict that.",
    )


def unsc_lukewarm(base: Sample, rerun: Rerun) -> CheckResult:
    """C12: when backing Iran would cost Russia its Western ties, Russia usually does not."""
    sc, prm = base.scenario, base.params
    actor = sc.betrayal["actor"]
    ai = sc.actor_ids.index(actor)
    names = prm.actions[ai]
    ok = "unsc_crisis" in prm.events and "back_iran" in names
    if ok:
        fired = base.traj.fired[:, :, prm.events.index("unsc_crisis")]
        backed = base.traj.actions[:, :, ai] == names.index("back_iran")
        hits = backed[fired]
    else:
        hits = np.zeros(0, dtype=bool)
    return _share(
        base,
        "unsc_lukewarm",
        ("C12",),
        f"In a Security Council crisis {sc.label(actor)} backs Iran less than half the time.",
        f"share of crisis months (unsc_crisis fired) in which {sc.label(actor)} chose back_iran",
        hits,
        Target("<", 0.5),
        "At 'key moments' Russia forwent its veto so as not to jeopardise Western ties: it "
        "backed Iran at fewer than half of them. Months are pooled across runs (they are not "
        "independent within a run, so the interval is optimistic).",
        detail=f"{int(hits.sum())} of {len(hits)} crisis months" if ok else "no unsc_crisis",
    )


def offer_raises_betrayal(base: Sample, rerun: Rerun, window: int = 12) -> CheckResult:
    """C11: a Western offer on Ukraine makes a Russian betrayal much more likely."""
    prm = base.params
    if "western_offer" not in prm.events:
        return _not_applicable(base, "offer_raises_betrayal", ("C11",), Target(">=", 2.0))
    offer = base.traj.fired[:, :, prm.events.index("western_offer")]
    betray = base.traj.actions[:, :, prm.betrayer] == prm.betrayal_action
    # after[r, t]: an offer fired in one of months t-window+1 .. t (events act before choices)
    csum = np.cumsum(np.pad(offer, ((0, 0), (1, 0))).astype(np.int64), axis=1)
    t = np.arange(1, offer.shape[1] + 1)
    after = (csum[:, t] - csum[:, np.maximum(t - window, 0)]) > 0
    n_in, n_out = int(after.sum()), int((~after).sum())
    k_in, k_out = int(betray[after].sum()), int(betray[~after].sum())
    p_in = k_in / n_in if n_in else math.nan
    p_out = k_out / n_out if n_out else math.nan
    ratio = p_in / p_out if n_in and p_out > 0 else (math.inf if k_in else math.nan)
    lo_in, hi_in = wilson(k_in, n_in)
    lo_out, hi_out = wilson(k_out, n_out)
    return _result(
        base,
        "offer_raises_betrayal",
        ("C11",),
        "A Western offer on Ukraine makes a Russian betrayal in Syria much more likely.",
        f"monthly betrayal rate in the {window} months from a western_offer event (offer month "
        "included) divided by the rate in all other months, pooled over runs",
        ratio,
        Target(">=", 2.0),
        "The article links the betrayal risk to Russia using Syria to extract Ukraine "
        "concessions: with an offer on the table the risk should at least double.",
        detail=f"after an offer {p_in:.4f} [{lo_in:.4f}, {hi_in:.4f}] ({k_in}/{n_in} "
        f"run-months); otherwise {p_out:.4f} [{lo_out:.4f}, {hi_out:.4f}] ({k_out}/{n_out})",
        applicable=n_in > 0 and n_out > 0,
        kind="ratio",
    )


def iran_hedges(base: Sample, rerun: Rerun) -> CheckResult:
    """C15 (with C5, C6, C8): Iran keeps Russia as a counterweight, not an ally."""
    sc, prm = base.scenario, base.params
    h, east = sc.hedging["actor"], sc.hedging["east"]
    hi = sc.actor_ids.index(h)
    names = prm.actions[hi]
    committed = [k for k, a in enumerate(names) if a.startswith("deepen_")]
    acts = base.traj.actions[:, :, hi]
    hits = ~np.isin(acts, committed)
    return _share(
        base,
        "iran_hedges",
        ("C15", "C5", "C8"),
        f"{sc.label(h)} hedges: it keeps {sc.label(east)} as a counterweight, deepening ties "
        "only when leverage is needed, not as its standing policy.",
        f"share of {sc.label(h)}'s monthly choices that are not a deepen_* action "
        f"({', '.join(a for a in names if not a.startswith('deepen_'))})",
        hits,
        Target(">=", 0.5),
        "C15 calls for treating Russia as a balance, not a full ally, and C8 has Iran improve "
        "ties 'when necessary'; choosing to deepen ties in most months is committing, not "
        "hedging. Months are pooled across runs.",
    )


def no_break_with_west(base: Sample, rerun: Rerun) -> CheckResult:
    """C14, C15: Iran keeps its slow rapprochement with the West alive."""
    sc = base.scenario
    h, west = sc.hedging["actor"], sc.hedging["west"]
    i, j = sc.actor_ids.index(h), sc.actor_ids.index(west)
    final = base.traj.pair_series(i, j)[:, -1]
    return _share(
        base,
        "no_break_with_west",
        ("C14", "C15"),
        f"{sc.label(h)} does not break with {sc.label(west)}: relations stay above open enmity.",
        f"share of runs with final {sc.label(h)}-{sc.label(west)} alignment > -0.9",
        final > -0.9,
        Target(">=", 0.9),
        "Iran will 'seize any opportunity' for qualified alignment with the US; open enmity "
        "(alignment at or below -0.9) would leave it nothing to balance Russia with.",
    )


def summit_fades(base: Sample, rerun: Rerun, after: int = 12) -> CheckResult:
    """C1: the Tehran summit's symbolic lift is gone within a year."""
    sc, prm = base.scenario, base.params
    name = "events.tehran_summit.alignment.iran.russia"
    if name not in sc.parameters() or base.months < after:
        return _not_applicable(base, "summit_fades", ("C1",), Target("<", 0.02))
    off = rerun({name: 0.0})
    i, j = prm.pair
    diff = (base.traj.pair_series(i, j)[:, after] - off.traj.pair_series(i, j)[:, after]).astype(
        float
    )
    shock = sc.parameters()[name]
    return _result(
        base,
        "summit_fades",
        ("C1",),
        "The Tehran summit's symbolic lift to Iran-Russia alignment is gone within a year.",
        f"mean Iran-Russia alignment at month {after} with the summit ({shock:g} shock) minus "
        "without it (same seed)",
        float(diff.mean()),
        Target("<", 0.02),
        "Rich in symbolism but unlikely to lift relations qualitatively: after a year at most a "
        f"fifth of the {shock:g} shock (0.02) may remain.",
        interval=paired_interval(diff),
        detail="paired difference; interval: normal 95% of the mean",
    )


def isolation_drives_convergence(base: Sample, rerun: Rerun) -> CheckResult:
    """C7: US isolation of Iran pushes Iran and Russia together."""
    sc = base.scenario
    pre = "actors.united_states.actions.isolate_iran"
    mild = {f"{pre}.stance.iran": -0.6, f"{pre}.issues.nuclear": -0.2}
    if not all(k in sc.parameters() for k in mild):
        return _not_applicable(base, "isolation_drives_convergence", ("C7",), Target(">", 0.0))
    other = rerun(mild)
    diff = base.runs.alignment_mean.to_numpy() - other.runs.alignment_mean.to_numpy()
    return _result(
        base,
        "isolation_drives_convergence",
        ("C7",),
        "Harsher US isolation of Iran raises Iran-Russia alignment.",
        "mean over runs of Iran-Russia alignment (mean over months) in the baseline minus the "
        "same with the mildest plausible isolation ("
        + ", ".join(f"{k.removeprefix(pre + '.')}={v:g}" for k, v in mild.items())
        + "), same seed",
        float(diff.mean()),
        Target(">", 0.0),
        "US moves to isolate Iran 'provided the necessary momentum' for Iran-Russia ties: "
        "softening isolation within its evidence range must lower their alignment.",
        interval=paired_interval(diff),
        detail="paired difference; interval: normal 95% of the mean",
    )


CHECKS: tuple[Callable[[Sample, Rerun], CheckResult], ...] = (
    no_alliance,
    ties_positive,
    unsc_lukewarm,
    offer_raises_betrayal,
    iran_hedges,
    no_break_with_west,
    summit_fades,
    isolation_drives_convergence,
)


def validate(
    scenario: Scenario,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    months: int | None = None,
    posterior: Any = None,
) -> list[CheckResult]:
    """Run every stylized-fact check on ``replicates`` seeded runs of ``scenario`` (each
    drawing its parameters from ``posterior`` when given).
    """
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    base = run_sample(scenario, replicates, seed, months, posterior=posterior)

    def rerun(overrides: Mapping[str, Any]) -> Sample:
        return run_sample(scenario, replicates, seed, base.months, overrides, posterior)

    return [check(base, rerun) for check in CHECKS]


def at_range_ends(
    scenario: Scenario,
    ranges: Mapping[str, tuple[float, float]],
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    months: int | None = None,
) -> pd.DataFrame:
    """Every check rerun with one parameter at a time set to each end of its evidence range.

    ``ranges`` maps dotted parameter names to (low, high), e.g. from
    `sim.scenario.evidence.evidence_ranges`. Shows how robust each pass is to honest
    disagreement about one number. Returns one row per (parameter, end, check): parameter,
    end ("low"/"high"), value, check, statistic, passed.
    """
    rows = []
    for name, (low, high) in ranges.items():
        for end, value in (("low", low), ("high", high)):
            sc = scenario.with_overrides({name: value})
            for r in validate(sc, replicates, seed, months):
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
