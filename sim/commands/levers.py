"""`sim levers SWEEP --outcome NAME`: which parameters drive an outcome, and where it is likely."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands import progress
from sim.commands.common import add_force_argument, check_out_file, count, finite
from sim.errors import SimInputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `levers` subcommand."""
    p = sub.add_parser(
        "levers",
        help="what would it take: rank parameters and find where an outcome is likely",
        description="Over a sweep's runs, rank the swept parameters by influence on a case of "
        "interest (extra-trees feature scores) and find the region of parameter values where "
        "the case is likely (PRIM with peeling, pasting and quasi-p-values), both from EMA "
        "Workbench. The case: an outcome, a threshold (--above or --below; a true/false "
        "outcome alone means it happened, --below 0.5 that it did not) and a unit (--per run, "
        "or point: the point's mean over its runs).",
    )
    p.add_argument("results", type=Path, help="a `sim sweep` results directory")
    p.add_argument("--outcome", required=True, help="outcome column, e.g. betrayal")
    side = p.add_mutually_exclusive_group()
    side.add_argument("--above", type=finite, default=None, help="case: value above this")
    side.add_argument("--below", type=finite, default=None, help="case: value below this")
    p.add_argument(
        "--per",
        choices=("run", "point"),
        default="run",
        help="judge the case per run (default) or on each design point's mean",
    )
    p.add_argument(
        "--density",
        type=finite,
        default=None,
        help="density target of the region (default: halfway from the base rate to 1)",
    )
    p.add_argument("--peel-alpha", type=finite, default=0.05, help="PRIM peeling step (0.05)")
    p.add_argument("--paste-alpha", type=finite, default=0.05, help="PRIM pasting step (0.05)")
    p.add_argument("--mass-min", type=finite, default=0.05, help="smallest box mass (0.05)")
    p.add_argument(
        "--seed",
        type=count(0, 2**32 - 1, "the extra-trees' seed range"),
        default=0,
        help="seed of the extra-trees (default 0)",
    )
    p.add_argument(
        "--figure",
        type=Path,
        default=None,
        help="write the feature scores and the trade-off (PATH-scores, PATH-tradeoff; PNG, SVG)",
    )
    add_force_argument(p, "existing --figure files")
    p.set_defaults(func=levers)


def levers(args: argparse.Namespace) -> int:
    """Print the ranking and the region; write the figures if asked."""
    from sim import analysis
    from sim.analysis import levers as lv

    if args.figure is not None:
        for suffix in ("-scores", "-tradeoff"):
            check_out_file(Path(f"{args.figure}{suffix}"), args.force, "--figure", figure=True)

    for name, value, low, high in (
        ("--peel-alpha", args.peel_alpha, 0, 0.5),
        ("--paste-alpha", args.paste_alpha, 0, 0.5),
        ("--mass-min", args.mass_min, 0, 1),
    ):
        if not low < value < high:
            raise SimInputError(f"must be in ({low}, {high})", field=name, found=value)
    if args.density is not None and not 0 < args.density <= 1:
        raise SimInputError("must be in (0, 1]", field="--density", found=args.density)
    res = analysis.load(args.results)
    if res.kind != "sweep":
        raise SimInputError(
            "levers need a sweep's results (runs over varied parameters)",
            file=str(args.results),
            allowed="a `sim sweep` results directory",
        )
    names = analysis.parameter_names(res.meta)
    case = lv.case(res.runs, args.outcome, args.above, args.below, args.per)
    progress.status(f"ranking {len(names)} parameters over {len(res.runs):,} runs ...")
    result = lv.levers(
        res.runs,
        names,
        case,
        args.density,
        seed=args.seed,
        peel_alpha=args.peel_alpha,
        paste_alpha=args.paste_alpha,
        mass_min=args.mass_min,
    )
    name = (res.meta.get("experiment") or {}).get("name") or res.name
    print(
        f"{name}: {len(res.runs)} runs at {res.meta.get('points')} design points "
        f"({res.meta.get('design')}, seed {res.meta.get('seed')})"
    )
    print(lv.describe(result))
    if args.figure and result.box is not None:
        from sim.report import figures

        cap = f"sweep {name}: {len(res.runs)} runs, seed {res.meta.get('seed')}"
        ax = figures.feature_scores(result.scores, title=f"Influence on: {case.describe()}")
        for path in figures.save(ax, Path(f"{args.figure}-scores"), cap):
            print(path)
        ax = figures.tradeoff(
            result.box.trajectory,
            result.box.step,
            title=f"Where is it likely: {case.describe()}",
            density=result.density_target,
        )
        for path in figures.save(ax, Path(f"{args.figure}-tradeoff"), cap):
            print(path)
    return 0
