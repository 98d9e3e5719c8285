"""`sim plot RESULTS...`: draw the figures of results directories as PNG and SVG files."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.common import check_out_file, check_writable
from sim.errors import SimInputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `plot` subcommand."""
    from sim.report.kinds import KINDS

    p = sub.add_parser(
        "plot",
        help="draw figures from results directories",
        description="Draw figures (PNG and SVG) from one or more `sim run` / `sim sweep` "
        "results directories; several are compared in the same figures.",
    )
    p.add_argument("results", nargs="+", type=Path, help="results directories")
    p.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        default=None,
        help="figure kind (repeatable; default: every kind that applies)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the figures (default: RESULTS/figures of the first results)",
    )
    p.add_argument("--force", action="store_true", help="replace existing figure files")
    p.set_defaults(func=plot)


def plot(args: argparse.Namespace) -> int:
    """Load the results, draw the figures and list the files written."""
    import html
    import re

    from sim import analysis, report
    from sim import results as store
    from sim.report import figures

    out = args.out or Path(args.results[0]) / "figures"
    check_writable(out, "--out", folder=True)
    results = [analysis.load(p) for p in args.results]
    panels = list(report.panels(results, args.kind))
    # Check every file first, so a refusal leaves the folder as it was.
    for panel in (p for p in panels if p.ax is not None):
        for ext in figures.FORMATS:
            check_out_file(out / f"{panel.name}.{ext}", args.force, "--out")
    written = []
    for panel in panels:
        if panel.ax is None:  # a note in place of an empty or misleading chart
            print(f"{panel.name}: {html.unescape(re.sub('<[^>]+>', '', panel.note))}")
            continue
        for path in figures.save(panel.ax, out / panel.name, panel.caption):
            print(path)
            written.append(path)
    store.record_written(written)  # figures inside a results folder join its manifest
    if not written:
        raise SimInputError(
            "no figure of the requested kind applies to these results",
            field="--kind",
            found=args.kind,
        )
    return 0
