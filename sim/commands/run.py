"""`sim run SCENARIO`: seeded replicates of one scenario into a results directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.common import (
    add_size_arguments,
    check_counts,
    check_run_size,
    check_writable,
)
from sim.errors import SimInputError

DEFAULT_REPLICATES = 1000
DEFAULT_SEED = 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    p = sub.add_parser(
        "run",
        help="run seeded replicates of a scenario",
        description="Run seeded replicates of a scenario and write a self-describing results "
        "directory (run table, trajectories, metadata, figures).",
    )
    p.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/baseline.toml")
    add_size_arguments(p, DEFAULT_REPLICATES, DEFAULT_SEED)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a scenario number by dotted name (repeatable)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results directory (default results/<scenario>-seed<S>)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing results directory")
    p.add_argument("--no-figures", action="store_true", help="skip the default figures")
    p.add_argument(
        "--list-parameters",
        action="store_true",
        help="print every parameter's dotted name and value, then exit",
    )
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, str]:
    """Turn ``NAME=VALUE`` strings into a dict (values are checked by the scenario)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SimInputError(
                "expected NAME=VALUE",
                field="--set",
                found=item,
                allowed="e.g. --set actors.russia.salience.ukraine=0.9",
            )
        out[name.strip()] = value.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Run the scenario, write the results directory and print a summary."""
    from sim import api, results, scenario
    from sim.model import outcomes
    from sim.report import figures

    check_counts(args.replicates, args.months, args.seed)
    overrides = parse_overrides(args.overrides)
    sc = scenario.load(args.scenario, overrides)
    if args.list_parameters:
        for name, value in sc.parameters().items():
            print(f"{name} = {value}")
        return 0
    out = args.out or Path("results") / f"{sc.name}-seed{args.seed}"
    check_run_size(args.replicates, args.months or sc.months)
    check_writable(out, "--out", folder=True)
    tmp = results.prepare(out, args.force)
    started = results.now()
    bar = _progress(args.replicates)
    try:
        res = api.simulate(
            sc,
            replicates=args.replicates,
            seed=args.seed,
            months=args.months,
            progress=bar.update if bar else None,
        )
    finally:
        if bar:
            bar.close()
    results.write_table(res.runs, tmp / "runs.parquet")
    results.write_table(res.series, tmp / "trajectories.parquet")
    declared = outcomes.declared(res.params, {a.id: a.label for a in sc.actors})
    results.write_json({"outcomes": results.outcomes_record(declared)}, tmp / "outcomes.json")
    if not args.no_figures:
        _figures(res, tmp / "figures", figures)
    meta = results.run_metadata(
        kind="run",
        command=sys.argv[1:] if sys.argv else None,
        scenario=sc,
        seed=args.seed,
        replicates=args.replicates,
        months=res.months,
        overrides=overrides,
        started=started,
        finished=results.now(),
    )
    results.write_json(meta, tmp / "metadata.json")
    results.commit(tmp, out)
    print(f"{sc.title}: {args.replicates} replicates x {res.months} months, seed {args.seed}")
    print(res.summary().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results: {out}")
    return 0


def _figures(res, folder: Path, figures) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sc = res.scenario
    i, j = res.params.pair
    pair = f"{sc.label(res.params.actors[i])}-{sc.label(res.params.actors[j])}"
    n = len(res.runs)
    caption = f"scenario: {sc.name}; {n} runs; seed {res.seed}"
    a, b = res.params.actors[i], res.params.actors[j]
    col = f"alignment:{a}-{b}"
    series = res.series.pivot(index="replicate", columns="month", values=col).to_numpy()
    ax = figures.fan_chart(series, label=sc.name, title=f"{pair} alignment (index, -1 to 1)")
    ax.set_ylabel("alignment")
    figures.save(ax, folder / "alignment_fan", caption)
    betrayer = sc.label(res.params.actors[res.params.betrayer])
    ax = figures.betrayal_months(
        res.runs.betrayal_month, res.months, title=f"Month of first {betrayer} betrayal"
    )
    figures.save(ax, folder / "betrayal_month", caption)


def _progress(total: int):
    if not sys.stderr.isatty() or total < 5000:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="simulating", file=sys.stderr)
