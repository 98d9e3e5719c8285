"""`sim whatif SCENARIO --at DATE ...`: paired counterfactuals with common random numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands import progress
from sim.commands.common import (
    add_force_argument,
    add_scenario_argument,
    add_size_arguments,
    check_counts,
    check_out_file,
    check_run_size,
    write_csv,
)
from sim.errors import SimInputError
from sim.scenario import BASELINE

DEFAULT_REPLICATES = 1000
DEFAULT_SEED = 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `whatif` subcommand."""
    p = sub.add_parser(
        "whatif",
        help="what a change from a date would do, run by run (paired counterfactuals)",
        description="Run a scenario twice with the same seed and replicates, once as it is and "
        "once with an intervention from --at on, and report the run-by-run difference of every "
        "outcome with 95%% intervals. Both arms draw the same random numbers, so they are "
        "identical before the intervention and paired intervals are much narrower than a "
        "comparison of independent runs.",
    )
    add_scenario_argument(p, BASELINE)
    p.add_argument(
        "--at", required=True, help="month of the intervention: YYYY-MM or a month number"
    )
    p.add_argument(
        "--set",
        dest="set_",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter from --at on (a regime change; repeatable)",
    )
    p.add_argument(
        "--impose",
        action="append",
        default=[],
        metavar="ACTOR=ACTION",
        help="leave the actor only this action from --at on (repeatable)",
    )
    p.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="NAME",
        help="make the named event happen in the month --at (repeatable)",
    )
    add_size_arguments(p, DEFAULT_REPLICATES, DEFAULT_SEED)
    p.add_argument("--csv", type=Path, default=None, help="write every outcome's row as CSV")
    p.add_argument(
        "--figure",
        type=Path,
        default=None,
        help="write the run-by-run difference of the declared partnership pair's alignment "
        "over time (PNG and SVG)",
    )
    add_force_argument(p, "existing --csv and --figure files")
    p.set_defaults(func=whatif)


def _pairs(items: list[str], flag: str, example: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SimInputError(
                "expected NAME=VALUE", field=flag, found=item, allowed=f"e.g. {flag} {example}"
            )
        out[name.strip()] = value.strip()
    return out


def whatif(args: argparse.Namespace) -> int:
    """Run both arms, print the paired differences, write the table and figure if asked."""
    from sim import whatif as wi

    check_out_file(args.figure, args.force, "--figure", figure=True)
    check_out_file(args.csv, args.force, "--csv")

    check_counts(args.replicates, args.months, args.seed)
    from sim.scenario import load

    # two arms of replicates x months are held at once
    sc = load(args.scenario)
    check_run_size(2 * args.replicates, args.months or sc.months)
    wi.month_of(sc, args.at)  # a bad --at is named before anything else is asked of the user
    changes = _pairs(args.set_, "--set", "actors.united_states.actions.engage_iran.bias=1")
    impose = _pairs(args.impose, "--impose", "united_states=isolate_iran")
    if not (changes or impose or args.event):
        raise SimInputError(
            "nothing to change: the what-if would equal the baseline",
            field="--set",
            allowed="at least one --set, --impose or --event",
        )
    progress.status(f"running both arms: {args.replicates:,} paired runs from {args.at} ...")
    try:
        res = wi.whatif(
            args.scenario,
            args.at,
            set=changes,
            impose=impose,
            events=args.event,
            replicates=args.replicates,
            seed=args.seed,
            months=args.months,
        )
    except SimInputError as exc:
        raise wi.for_cli(exc) from None
    print(wi.describe(res))
    if args.csv:
        write_csv(res.differences, args.csv, args.force, "--csv")
        print(args.csv)
    if args.figure:
        from sim.model import outcomes
        from sim.report import figures

        sc = res.arms.baseline
        # The pair of the first declared outcome drawn as a fan of alignment (a partnership).
        fans = [
            fig.column
            for spec, kind, ctx in outcomes.specs(sc.outcomes)
            for fig in kind.figures(spec, ctx)
            if fig.key == "fan"
        ]
        if not fans:
            raise SimInputError("the scenario declares no partnership pair", field="--figure")
        a, b = outcomes.pair_of(fans[0])
        diffs = wi.alignment_differences(res, a, b)
        ax = figures.paired_fan(
            diffs,
            title=f"{sc.label(a)}-{sc.label(b)} alignment: what-if minus baseline, run by run "
            f"({'; '.join(res.arms.changes) or 'no change'} from {res.arms.date})",
            start=sc.start,
            at=res.arms.month,
        )
        caption = f"scenario {sc.name}; {len(res.baseline.runs)} paired runs; seed {res.seed}"
        for path in figures.save(ax, args.figure, caption):
            print(path)
    return 0
