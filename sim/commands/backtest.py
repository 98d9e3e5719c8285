"""`sim backtest EVENTS`: score the model's forecasts of pre-registered events against history.

Runs the events file's scenario with parameter uncertainty (a calibrated posterior with
``--posterior``, else the evidence ranges; ``--point`` for the scenario's values only),
forecasts every event in scope, scores the forecasts and three naive baselines (Brier and log
score, CRPS) with paired bootstrap intervals, says which events the drivers decide, prints the
score table for all events and for the informative ones alone (with the model against the
best baseline there) and writes a
self-describing results directory (events.parquet, scores.parquet, values.parquet, figures,
metadata.json) that `sim report` turns into HTML.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands import progress
from sim.commands.common import check_counts, check_out_dir, check_run_size, count
from sim.scenario.limits import MAX_REPLICATES, MAX_SEED
from sim.validation.facts.settings import DEFAULT_SEED

DEFAULT_REPLICATES = 2000


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `backtest` subcommand."""
    p = sub.add_parser(
        "backtest",
        help="score the model's forecasts of pre-registered events against history",
        description="Forecast each pre-registered event of an events file from runs of its "
        "scenario, score the forecasts and naive baselines (always 0.5, base rate, "
        "persistence: the same runs with the drivers of 2015 kept) with Brier, log score and "
        "CRPS, score apart the events the drivers decide, and write a results directory. "
        "Prints the score tables whatever the scores are.",
    )
    p.add_argument(
        "events", type=Path, help="events file, e.g. backtests/history_2015_2025/events.toml"
    )
    p.add_argument(
        "--replicates",
        "-n",
        type=count(1, MAX_REPLICATES),
        default=DEFAULT_REPLICATES,
        help=f"runs (default {DEFAULT_REPLICATES})",
    )
    p.add_argument(
        "--seed",
        type=count(0, MAX_SEED),
        default=DEFAULT_SEED,
        help=f"seed (default {DEFAULT_SEED})",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--posterior",
        type=Path,
        default=None,
        help="a calibration directory (sim calibrate) of the events' scenario or of one it "
        "extends: each run draws the calibrated parameters from its posterior; default: "
        "parameters drawn from the evidence ranges",
    )
    which.add_argument(
        "--point",
        action="store_true",
        help="the scenario's values for every run (no parameter uncertainty)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results directory (default results/backtest-NAME-seedS, with -point or -posterior "
        "for those sources)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing results directory")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the backtest, write the results directory and print the tables."""
    from sim import results
    from sim.validation.backtest.events import load_events

    check_counts(args.replicates, None, args.seed)
    events = load_events(args.events)
    from sim.scenario import load

    check_run_size(args.replicates, load(events.scenario).months)  # before any run
    source = "posterior" if args.posterior else ("point" if args.point else "evidence")
    # One default folder per parameter source, so the documented commands do not collide.
    suffix = f"-seed{args.seed}" + ("" if source == "evidence" else f"-{source}")
    out = args.out or results.default_dir(events.name, suffix, "backtest-")
    check_out_dir(out, args.force)
    # Imported only now: scoringrules compiles its numba functions on import (seconds), and a
    # colliding --out is refused before that.
    from sim.validation.backtest import backtest, ensemble

    started = results.now()
    progress.status(f"simulating {args.replicates:,} runs of {events.scenario.name} ({source}) ...")
    ens = ensemble.build(events.scenario, args.replicates, args.seed, None, source, args.posterior)
    bt = backtest.score(events, ens, args.seed)
    with results.writing(out, args.force) as tmp:
        results.write_table(bt.table, tmp / "events.parquet")
        results.write_table(bt.summary, tmp / "scores.parquet")
        results.write_table(bt.values, tmp / "values.parquet")
        meta = metadata(bt, started)
        if not args.no_figures:
            from sim.report import backtest as figures

            figures.write_figures(bt.table, tmp / "figures", figures.caption_of(meta))
        results.write_json(meta, tmp / "metadata.json")
    print(render(bt))
    print(f"results: {out}")
    return 0


def metadata(bt, started: str) -> dict:
    """The self-description of a backtest results directory."""
    from sim import results
    from sim.validation.backtest.scores import EPS
    from sim.validation.forecast import forecast

    ens, events = bt.ensemble, bt.events
    sc = ens.scenario
    return {
        "format": results.FORMAT,
        "format_version": results.FORMAT_VERSION,
        "kind": "backtest",
        "command": sys.argv[1:] if sys.argv else None,
        "events_name": events.name,
        "events_file": str(events.path),
        "events_sha256": events.sha256,
        "calibration_end": events.calibration_end,
        "out_of_scope": [e.id for e in events.events if not e.in_scope],
        "scenario_name": sc.name,
        "scenario_source": sc.source,
        "scenario_sha256": forecast.scenario_sha256(sc),
        "scenario": sc.raw,
        "seed": bt.seed,
        "replicates": ens.runs,
        "months": ens.traj.months,
        "parameters": ens.describe(),
        "parameter_source": ens.source,
        "varied": list(ens.varied),
        "posterior": ens.posterior,
        "posterior_sha256": ens.posterior_sha256,
        "log_score_clip": f"probabilities clipped to [{EPS}, {1 - EPS}] for the log score",
        "versions": results.versions(),
        "started": started,
        "finished": results.now(),
    }


def _signed(x: float) -> str:
    return f"{0.0 if abs(x) < 5e-4 else x:+.3f}"  # no "-0.000"


def _score_lines(summary) -> list[str]:
    from sim.validation.backtest import backtest

    lines = [
        f"{'period':<12}{'score':<7}{'events':>6}  {'model':>7}  "
        + "  ".join(f"{k:>31}" for k in backtest.BASELINES),
    ]
    for (period, score), grp in summary.groupby(["period", "score"], sort=False):
        by = {r.forecaster: r for r in grp.itertuples()}
        cells = []
        for k in backtest.BASELINES:
            r = by[k]
            diff = ",".join(_signed(x) for x in (r.low95, r.high95))
            cells.append(f"{r.mean:7.3f} ({_signed(r.model_minus)} [{diff}])")
        n = by["model"].events
        lines.append(
            f"{period:<12}{score:<7}{n:>6}  {by['model'].mean:7.3f}  "
            + "  ".join(f"{c:>31}" for c in cells)
        )
    return lines


def render(bt) -> str:
    """The score tables (all events, informative events), the model against the best baseline
    on the informative events, and the events the model gets most wrong, as text.
    """
    from sim.validation.backtest import backtest

    ev, ens = bt.events, bt.ensemble
    calib = sum(e.period == "calibration" for e in ev.scored)
    lines = [
        f"Backtest {ev.name}: {len(ev.scored)} events ({calib} calibration period to "
        f"{ev.calibration_end}, {len(ev.scored) - calib} after), {len(ev.events) - len(ev.scored)} "
        f"out of scope; scenario {ens.scenario.name}, {ens.runs} runs, seed {bt.seed}",
        f"Parameters: {ens.describe()}",
        "Scores are lower-is-better; 'model minus' < 0 means the model beats that baseline "
        "(95% paired bootstrap over events).",
        "",
        "All events:",
        *_score_lines(bt.summary[bt.summary.subset == "all"]),
    ]
    t = bt.table
    decided = t[~t.informative]
    lines += [
        "",
        f"Decided by the drivers ({len(decided)} of {len(t)}: the model's runs agree on one "
        f"value in at least {backtest.SETTLED:.0%} of the weight, the same runs without regime "
        "changes do not): " + (", ".join(decided.event) or "none"),
        "",
        f"Informative events only ({len(t) - len(decided)}):",
        *_score_lines(bt.summary[bt.summary.subset == "informative"]),
        "",
        "Skill on the informative events: the model against the best baseline on them "
        "(model minus it, 95% paired bootstrap):",
    ]
    for r in backtest.skill(bt.summary).itertuples():
        interval = ",".join(_signed(x) for x in (r.low95, r.high95))
        lines.append(
            f"  {r.period:<12}{r.score:<7}{r.events:>3} events  model {r.model:.3f}  "
            f"{r.best_baseline} {r.baseline:.3f}  {_signed(r.model_minus)} [{interval}]"
        )
    lines += ["", "Events the model gets most wrong:"]
    for r in backtest.worst(bt.table).itertuples():
        what = f"P = {r.forecast:.3f}" if r.type == "binary" else (
            f"mean {r.forecast:.2f} [90%: {r.q05:g}-{r.q95:g}]"
        )  # fmt: skip
        lines.append(f"  {r.event} ({r.period}): observed {r.observed:g}, model {what}")
    return "\n".join(lines)
