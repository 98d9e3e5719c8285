"""`sim run [SCENARIO]`: seeded replicates of one scenario into a results directory."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from sim import signals
from sim.commands import progress
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
MONTH_KEYS = ("median_month", "median_wait", "median_length")  # summary rows counted in months


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
        "--parameter-draws",
        type=int,
        default=None,
        metavar="K",
        help="parameter settings drawn (from the evidence ranges, or the --posterior) to show "
        "each probability's spread over plausible parameters and what moves it most; each "
        "setting runs max(10, REPLICATES/K) replicates (default 40; 0 = off: seed noise only)",
    )
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
    draws = _check_draws(args.parameter_draws)
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
            spread = _spread(args, sc, overrides, post, draws, tmp)
        except KeyboardInterrupt as exc:
            # `writing` removes the temporary folder; an existing `out` stays as it was.
            raise signals.noted(exc, f"nothing was written to {out}") from None
    print(
        f"{sc.title}: {args.replicates} replicates x {res.months} months "
        f"({sc.date(1)} to {sc.date(res.months)}), seed {args.seed}"
    )
    print(format_summary(res.summary(), res.interval_note, spread))
    print(f"results: {out}")
    return 0


def _write(args: argparse.Namespace, sc, overrides: dict[str, str], tmp: Path, post=None):
    """Simulate and write the results directory's files into ``tmp``; return the results."""
    from sim import api, results
    from sim.model import outcomes
    from sim.model.params import compile_params
    from sim.report import figures

    started = results.now()
    params = compile_params(sc)
    kept = _KeptSeries(params)
    labels = {a.id: a.label for a in sc.actors}
    declared = outcomes.declared(params, labels)
    units = results.described(declared)
    series_units: dict = {}
    # Trajectories go to disk a block of replicates at a time; only a slim table stays.
    with results.TableWriter(tmp / "trajectories.parquet") as writer:

        def keep(table) -> None:
            block, described = results.trajectory_table(table, sc.name, args.seed, declared, labels)
            if not series_units:
                series_units.update(described)
                writer.described = series_units
            writer.write(block)
            kept.add(table)

        with progress.bar("simulating", args.replicates, "run", minimum=5000) as bar:
            res = api.simulate(
                sc,
                replicates=args.replicates,
                seed=args.seed,
                months=args.months,
                progress=bar.update,
                posterior=post,
                on_series=keep,
            )
    results.write_table(results.tagged(res.runs, sc.name, args.seed), tmp / "runs.parquet", units)
    record = {
        "outcomes": results.outcomes_record(declared),
        "trajectories": results.columns_record(series_units),
    }
    results.write_json(record, tmp / "outcomes.json")
    # The summary's flags and the figures read the slim per-month table.
    res = dataclasses.replace(res, series=kept.table())
    if not args.no_figures:
        _figures(res, res.series, tmp / "figures", figures)
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


class _KeptSeries:
    """A slim per-month table kept while the full one goes to disk block by block: the
    columns the outcome kinds' figures draw (a partnership's pair alignment, which its
    threshold check also reads) and every actor's action (a defection's response), with
    compact integer keys. It is what the
    figures and the summary's flags need; the full table is in ``trajectories.parquet``.
    """

    def __init__(self, params) -> None:
        from sim.model import outcomes

        labels = dict(zip(params.actors, params.actors, strict=True))
        self.wanted = {
            f.column
            for spec, kind, ctx in outcomes.specs(params.outcome_specs, labels)
            for f in kind.figures(spec, ctx)
        }
        self.blocks: dict[str, list] = {}
        self.categories: dict = {}

    def add(self, table) -> None:
        """Keep one block's wanted columns (replicates in order, each with all its months)."""
        import pandas as pd

        keep = [c for c in table.columns if c in self.wanted or c.startswith("action__")]
        self.blocks.setdefault("replicate", []).append(table["replicate"].to_numpy("int32"))
        self.blocks.setdefault("month", []).append(table["month"].to_numpy("int32"))
        for c in keep:
            col = table[c]
            if isinstance(col.dtype, pd.CategoricalDtype):
                self.categories[c] = col.cat.categories
                values = col.cat.codes.to_numpy()
            else:  # single precision is plenty for a figure's quantiles and a 0.05 flag
                values = col.to_numpy("float32") if col.dtype == "float64" else col.to_numpy()
            # A copy of its own: a view would keep the block's whole table alive.
            self.blocks.setdefault(c, []).append(values.copy())

    def table(self):
        """The kept columns of every block, or None if nothing was kept (joined a column at a
        time, so the peak is the table plus one column, not two tables).
        """
        import numpy as np
        import pandas as pd

        if not self.blocks:
            return None
        data = {}
        for c in list(self.blocks):
            values = np.concatenate(self.blocks.pop(c))
            if c in self.categories:
                values = pd.Categorical.from_codes(values, categories=self.categories[c])
            data[c] = values
        return pd.DataFrame(data, copy=False)


def _check_draws(value: int | None) -> int:
    from sim.validation.headline import DEFAULT_SETTINGS

    if value is None:
        return DEFAULT_SETTINGS
    if value != 0 and value < 3:
        raise SimInputError(
            "expected 0 (off) or at least 3 settings", field="--parameter-draws", found=value
        )
    return value


def _spread(args, sc, overrides, post, draws: int, tmp: Path) -> dict | None:
    """The headline's spread over ``draws`` parameter settings, also written to the results
    directory (`sim.analysis.spread.FILE`) for the report; None when turned off.
    """
    if not draws:
        return None
    from sim import results
    from sim.analysis.spread import FILE
    from sim.validation.headline import parameter_spread

    data = parameter_spread(
        sc, args.replicates, args.seed, args.months, draws, post, fixed=overrides
    )
    results.write_json(data, tmp / FILE)
    return data


def _figures(res, series, folder: Path, figures) -> None:
    from sim.model import outcomes
    from sim.report import outcome_figures

    folder.mkdir(parents=True, exist_ok=True)
    sc = res.scenario
    caption = f"scenario: {sc.name}; {len(res.runs)} runs; seed {res.seed}"
    labels = {a.id: a.label for a in sc.actors}
    for spec, kind, ctx in outcomes.specs(sc.outcomes, labels):
        for fig in kind.figures(spec, ctx):
            ax = outcome_figures.draw(fig, res.runs, series, res.months, sc.start, sc.name)
            if ax is not None:
                figures.save(ax, folder / fig.name, caption)


def format_summary(table, note: str = "", spread: dict | None = None) -> str:
    """The headline table as aligned text: value [95% interval] and what it means; ``note``
    says what the intervals cover besides sampling (e.g. a posterior's parameters). With a
    ``spread`` (`sim.analysis.spread.spread`), each probability gets a second line: its spread
    over plausible parameter settings and the parameters that move it most.
    """
    import math

    from sim.analysis import spread as spread_mod

    lines = []
    width = max(len(s) for s in table.statistic)
    for row in table.itertuples(index=False):
        v = row.value
        flag = getattr(row, "flag", "")
        if flag:  # not a finding: say why instead of printing the number as one
            lines.append(f"{row.statistic:<{width}}  {flag:<22}  {row.note}")
            continue
        if isinstance(v, float) and row.key in MONTH_KEYS and not math.isnan(v):
            text = f"{v:g}"  # a number of months: 49, or 26.5 between two runs
        elif isinstance(v, float):
            text = "n/a" if math.isnan(v) else f"{v:.3f}"
        else:
            text = str(v)
        if row.low95 is not None and not (isinstance(row.low95, float) and math.isnan(row.low95)):
            text += f" [{row.low95:.3f}, {row.high95:.3f}]"
        lines.append(f"{row.statistic:<{width}}  {text:<22}  {row.note}")
        over = spread_mod.lookup(spread, row.outcome, row.key)
        if over is not None:
            lines += [f"{'':<{width}}  {t}" for t in spread_mod.describe(over, spread["settings"])]
    lines.append(intervals_note(note, spread))
    return "\n".join(lines)


def intervals_note(note: str = "", spread: dict | None = None) -> str:
    """What the printed intervals are, in words a reader cannot mistake for certainty."""
    text = "Intervals: [low, high] is the 95% Wilson interval over runs: seed noise only"
    text += f"; {note}." if note else ", at the scenario's point values."
    if spread:
        text += (
            f" The 'over {spread['settings']} parameter settings' lines rerun the scenario at "
            f"{spread['settings']} settings {spread['source']} ({spread['runs_per_setting']} "
            "runs each): their spread is what is not known about the parameters, usually far "
            "wider than the seed noise; 'moved most by' ranks parameters by rank correlation "
            "with the probability across settings (--parameter-draws sizes or turns this off)."
        )
    else:
        text += (
            " Parameter uncertainty was not computed (--parameter-draws 0): the model's "
            "numbers are uncertain, so these probabilities may be far off."
        )
    return text
