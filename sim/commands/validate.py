"""`sim validate [SCENARIO]`: check the article's stylized facts against seeded runs.

Prints, per check, the statistic, its target and PASS/FAIL (with the Wilson 95% interval where
the statistic is a share), then one summary line. Exits 0 even when checks fail: it reports,
it does not gate.
"""

from __future__ import annotations

import argparse
import math
import textwrap
from typing import TYPE_CHECKING

from sim.commands import progress
from sim.commands.common import (
    add_posterior_argument,
    add_scenario_argument,
    add_size_arguments,
    check_counts,
    check_run_size,
    count,
    load_posterior,
)
from sim.errors import SimInputError
from sim.scenario import BASELINE, load
from sim.scenario.evidence import evidence_ranges
from sim.scenario.limits import MAX_DESIGN_POINTS, MAX_REPLICATES
from sim.validation.facts.settings import DEFAULT_REPLICATES, DEFAULT_SEED

if TYPE_CHECKING:
    import pandas as pd

    from sim.validation.facts.facts import CheckResult

DEFAULT_SCENARIO = BASELINE


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `validate` subcommand."""
    p = sub.add_parser(
        "validate",
        help="check the article's stylized facts against seeded runs",
        description="Run seeded replicates of a scenario and check the source article's own "
        "assessments (no alliance, positive ties, lukewarm UNSC support, betrayal after a "
        "Western offer, Iranian hedging, ...). Reports; exits 0 even if checks fail.",
    )
    add_scenario_argument(p, DEFAULT_SCENARIO)
    add_size_arguments(p, DEFAULT_REPLICATES, DEFAULT_SEED)
    p.add_argument(
        "--range-ends",
        nargs="+",
        metavar="PARAMETER",
        default=None,
        help="also rerun every check with each named parameter (dotted name) at the low and "
        "the high end of its evidence range, one at a time, and print a robustness table",
    )
    p.add_argument(
        "--joint",
        type=count(1, MAX_DESIGN_POINTS),
        default=None,
        metavar="N",
        help="also draw N settings jointly from every evidence range (Latin hypercube) and "
        "print each check's pass rate and the joint pass rate (runs --joint-replicates each)",
    )
    p.add_argument(
        "--joint-replicates",
        type=count(1, MAX_REPLICATES),
        default=500,
        metavar="R",
        help="replicates per setting of --joint (default 500)",
    )
    add_posterior_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks and print the report."""
    from sim import validation

    check_counts(args.replicates, args.months, args.seed)
    sc = load(args.scenario)
    check_run_size(args.replicates, args.months or sc.months)
    ranges = _ranges(args.scenario, args.range_ends) if args.range_ends else None
    if args.joint is not None:
        check_counts(args.joint_replicates, args.months, args.seed)
        if args.joint < 1:
            raise SimInputError("must be at least 1", field="--joint", found=args.joint)
    post = load_posterior(args.posterior, sc)
    steps = 1 + 2 * len(ranges or {})  # the checks as given, then each parameter end
    with progress.bar("validating", steps, "pass") as bar:
        update = bar.update
        results = validation.validate(sc, args.replicates, args.seed, args.months, posterior=post)
        update(1)
        table = None
        if ranges and results:
            table = validation.at_range_ends(
                sc, ranges, args.replicates, args.seed, args.months, progress=update
            )
    if not results:
        print(
            f"{sc.title}: no stylized-fact checks are declared for this scenario "
            "(scenarios/checks/<name>.toml beside it or its base)"
        )
        return 0
    print(render(sc.title, results))
    if post:
        print(f"Intervals: {post.note}.")
    if table is not None:
        print()
        print(render_range_ends(table, results))
    if args.joint is not None:
        with progress.bar("joint settings", args.joint, "setting") as bar:
            table = validation.joint(
                sc,
                evidence_ranges(args.scenario),
                args.joint,
                args.joint_replicates,
                args.seed,
                args.months,
                progress=bar.update,
            )
        print()
        print(render_joint(table, args.joint, args.joint_replicates))
    return 0


def render_joint(table: pd.DataFrame, settings: int, replicates: int) -> str:
    """Pass rate of each check, and of all together, over jointly drawn settings."""
    lines = [
        f"Joint uncertainty: {settings} settings drawn together from every evidence range "
        f"(Latin hypercube), {replicates} runs each.",
        f"{'check':<30} {'pass rate':>9}",
    ]
    passed = table.pivot(index="setting", columns="check", values="passed").astype(float)
    for check in dict.fromkeys(table.check):
        lines.append(f"{check:<30} {passed[check].mean():>9.3f}")
    every = passed.fillna(0).astype(bool).all(axis=1)
    lines.append(f"{'all checks together':<30} {every.mean():>9.3f}")
    extra = [c for c in table.columns if c.startswith("P(")]
    if extra and every.any():
        first = table.drop_duplicates("setting").set_index("setting")
        for col in extra:
            v = first.loc[every[every].index, col]
            lines.append(
                f"{col} among settings passing all: median {v.median():.3f}, "
                f"range {v.min():.3f} to {v.max():.3f}"
            )
    return "\n".join(lines)


def _ranges(scenario_path: str, names: list[str]) -> dict[str, tuple[float, float]]:
    """The evidence ranges of ``names``; one clear error for a name without one."""
    ranges = evidence_ranges(scenario_path)
    for name in names:
        if name not in ranges:
            raise SimInputError(
                "has no evidence range",
                field="--range-ends",
                found=name,
                allowed="dotted parameter names of the scenario's evidence table "
                "(see `sim evidence`)",
            )
    return {name: ranges[name] for name in names}


def render_range_ends(table: pd.DataFrame, results: list[CheckResult]) -> str:
    """The robustness table: one row per parameter end, one column per check; ! marks a FAIL."""
    checks = [r.name for r in results]
    head = ["parameter", "end", "value", *checks]
    base = ["(baseline)", "", "", *(_cell(r.statistic, r.passed) for r in results)]
    rows = [head, base]
    for (name, end), grp in table.groupby(["parameter", "end"], sort=False):
        by = dict(zip(grp.check, zip(grp.statistic, grp.passed, strict=True), strict=True))
        rows.append([name, end, f"{grp.value.iloc[0]:g}", *(_cell(*by[c]) for c in checks)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    out = ["Robustness: each check with one parameter at an end of its evidence range (! = FAIL)"]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    fails = int((table.passed == False).sum())  # noqa: E712 (None means N/A)
    out.append(f"{fails} of {len(table)} rerun checks fail")
    return "\n".join(out)


def _cell(statistic: float, passed: bool | None) -> str:
    return _fmt(statistic) + ("!" if passed is False else "")


def _fmt(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.4f}" if abs(x) < 100 else f"{x:.1f}"


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=" " * 6, subsequent_indent=" " * 8)


def status(passed: bool | None) -> str:
    """PASS, FAIL or N/A."""
    return "N/A" if passed is None else ("PASS" if passed else "FAIL")


def render(title: str, results: list[CheckResult], width: int = 100) -> str:
    """The validation report for a terminal."""
    r0 = results[0]
    lines = [
        f"Stylized facts for {title}: {r0.runs} runs x {r0.months} months, seed {r0.seed}",
        "",
    ]
    for r in results:
        stat = _fmt(r.statistic)
        if r.interval:
            kind = "Wilson 95%" if r.kind == "share" else "95% CI"
            stat += f"  [{_fmt(r.interval[0])}, {_fmt(r.interval[1])}] {kind}"
        lines.append(f"{status(r.passed):<4}  {r.name}  ({', '.join(r.claims)})")
        lines += _wrap(r.statement, width)
        lines += _wrap(f"measure: {r.measure}", width)
        lines.append(f"      statistic: {stat}   target: {r.target}")
        if r.detail:
            lines += _wrap(r.detail, width)
        lines += _wrap(f"why: {r.why}", width)
        lines.append("")
    passed = sum(r.passed is True for r in results)
    failed = [r.name for r in results if r.passed is False]
    na = sum(r.passed is None for r in results)
    summary = f"SUMMARY: {passed} of {len(results) - na} checks pass"
    if failed:
        summary += f"; FAIL: {', '.join(failed)}"
    if na:
        summary += f"; {na} not applicable"
    lines.append(summary)
    return "\n".join(lines)
