"""`sim report RESULTS...`: one self-contained HTML report for runs or sweeps."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands import progress as progress_display
from sim.commands.common import check_out_file


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report",
        description="Write one HTML page (figures embedded, opens offline) for one or more "
        "results directories, side by side: a generated summary (what was run, the headline "
        "answers with intervals, what drives them, what would change them), a table of "
        "contents, the headline numbers and the figures; for sweeps, sensitivity indices and "
        "levers (feature scores and PRIM regions, with EMA Workbench).",
    )
    p.add_argument("results", nargs="+", type=Path, help="results directories to compare")
    p.add_argument(
        "--out", type=Path, default=Path("report.html"), help="HTML file (default report.html)"
    )
    p.add_argument("--title", default=None, help="report title (default: the scenario names)")
    p.add_argument("--force", action="store_true", help="replace an existing report file")
    p.add_argument(
        "--posterior",
        metavar="DIR",
        default=None,
        help="calibration directory the runs drew from: add its fit and posterior figures",
    )
    p.add_argument(
        "--lever",
        dest="levers",
        action="append",
        default=None,
        metavar="CASE",
        help="a case for the lever analysis of sweeps, repeatable: NAME (true), NAME<VALUE or "
        "NAME>VALUE, optionally :point (judged on each design point's mean); default: each "
        "declared partnership happens and each defection is avoided (NAME<0.5)",
    )
    p.add_argument(
        "--density",
        type=float,
        default=None,
        help="density target of the lever regions (default: halfway from the base rate to 1)",
    )
    p.set_defaults(func=report)


def report(args: argparse.Namespace) -> int:
    """Write the report and print where it is."""
    from sim import report as report_module

    check_out_file(args.out, args.force, "--out")
    with progress_display.stages("step") as progress:  # loading results, then drawing figures
        out = report_module.write(
            args.results,
            args.out,
            args.title,
            args.posterior,
            cases=args.levers,
            density=args.density,
            force=args.force,
            progress=progress,
        )
    print(f"report: {out}")
    return 0
