"""`sim run [SCENARIO]`: seeded replicates of one scenario into a results directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.common import (
    add_posterior_argument,
    add_scenario_argument,
    add_size_arguments,
    check_counts,
    check_out_dir,
    check_run_size,
    load_posterior,
)
from sim.errors import SimInputError
from sim.scenario import BASELINE

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
    add_scenario_argument(p, BASELINE)  # the shipped baseline, also from an installed wheel
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
    add_posterior_argument(p)
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
    from sim import results, scenario

    check_counts(args.replicates, args.months, args.seed)
    overrides = parse_overrides(args.overrides)
    sc = scenario.load(args.scenario, overrides)
    if args.list_parameters:
        for name, value in sc.parameters().items():
            print(f"{name} = {value}")
        return 0
    post = load_posterior(args.posterior, sc)
    out = args.out or results.default_dir(sc.name, f"-seed{args.seed}")
    check_run_size(args.replicates, args.months or sc.months)
    check_out_dir(out, args.force)
    with results.writing(out, args.force) as tmp:
        try:
            res = _write(args, sc, overrides, tmp, post)
        except KeyboardInterrupt:
            # `writing` removes the temporary folder; an existing `out` stays as it was.
            raise KeyboardInterrupt(f"nothing was written to {out}") from None
    print(
        f"{sc.title}: {args.replicates} replicates x {res.months} months "
        f"({sc.date(1)} to {sc.date(res.months)}), seed {args.seed}"
    )
    print(format_summary(res.summary(), res.interval_note))
    print(f"results: {out}")
    return 0


def _write(args: argparse.Namespace, sc, overrides: dict[str, str], tmp: Path, post=None):
    """Simulate and write the results directory's files into ``tmp``; return the results."""
    from sim import api, results
    from sim.model import outcomes
    from sim.report import figures

    started = results.now()
    bar = _progress(args.replicates)
    try:
        res = api.simulate(
            sc,
            replicates=args.replicates,
            seed=args.seed,
            months=args.months,
            progress=bar.update if bar else None,
            posterior=post,
        )
    finally:
        if bar:
            bar.close()
    declared = outcomes.declared(res.params, {a.id: a.label for a in sc.actors})
    units = results.described(declared)
    results.write_table(results.tagged(res.runs, sc.name, args.seed), tmp / "runs.parquet", units)
    results.write_table(res.series, tmp / "trajectories.parquet", units)
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
    meta["posterior"] = {"path": post.path, "note": post.note} if post else None
    results.write_json(meta, tmp / "metadata.json")
    return res


def _figures(res, folder: Path, figures) -> None:
    from sim.model import outcomes

    folder.mkdir(parents=True, exist_ok=True)
    sc = res.scenario
    caption = f"scenario: {sc.name}; {len(res.runs)} runs; seed {res.seed}"
    if res.params.pair is not None:
        a, b = (res.params.actors[k] for k in res.params.pair)
        col = outcomes.pair_column(a, b)
        series = res.series.pivot(index="replicate", columns="month", values=col).to_numpy()
        title = f"{sc.label(a)}-{sc.label(b)} alignment (index, -1 to 1)"
        ax = figures.fan_chart(series, label=sc.name, title=title, start=sc.start)
        ax.set_ylabel("alignment")
        figures.save(ax, folder / "alignment_fan", caption)
    for spec in sc.outcomes:
        if spec.kind != "defection":
            continue
        title = f"Month of first {spec.id}: {sc.label(spec.fields['actor'])}"
        ax = figures.betrayal_months(res.runs[f"{spec.id}_month"], res.months, title=title)
        figures.save(ax, folder / f"{spec.id}_month", caption)


def format_summary(table, note: str = "") -> str:
    """The headline table as aligned text: value [95% interval] and what it means; ``note``
    says what the intervals cover besides sampling (e.g. a posterior's parameters).
    """
    import math

    lines = []
    width = max(len(s) for s in table.statistic)
    for row in table.itertuples(index=False):
        v = row.value
        if isinstance(v, float):
            text = "n/a" if math.isnan(v) else f"{v:.3f}"
        else:
            text = str(v)
        if row.low95 is not None and not (isinstance(row.low95, float) and math.isnan(row.low95)):
            text += f" [{row.low95:.3f}, {row.high95:.3f}]"
        lines.append(f"{row.statistic:<{width}}  {text:<22}  {row.note}")
    if note:
        lines.append(f"Intervals: 95% Wilson over runs; {note}.")
    else:
        lines.append("Intervals: 95% Wilson over runs, sampling uncertainty only.")
    return "\n".join(lines)


def _progress(total: int):
    if not sys.stderr.isatty() or total < 5000:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="simulating", file=sys.stderr)
