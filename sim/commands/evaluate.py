"""`sim evaluate FILE`: run a pre-registered rolling-origin evaluation (docs/skill.md).

Refits every forecaster of the evaluation file at each origin on the sessions up to it only,
scores the forecasts of the sessions the data hold (CRPS, interval coverage, PIT, paired
differences with block-bootstrap intervals), prints the table whatever it says and writes a
results directory (forecasts, summary, paired, pit, coefficients as Parquet, figures,
metadata.json) that `sim report` turns into HTML.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.common import check_writable


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `evaluate` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="rolling-origin evaluation of forecasters of measured data (pre-registered file)",
        description="Run a pre-registered rolling-origin evaluation: at every origin, refit "
        "the core state-space model, the naive baselines and the agent-based model (alone and "
        "as a drift covariate of the core) on the data up to that origin, score their forecasts "
        "and write a results directory. Prints the score table whatever the scores are.",
    )
    p.add_argument("file", type=Path, help="evaluation file, e.g. evaluations/rolling_origin.toml")
    p.add_argument(
        "--out", type=Path, default=None, help="results directory (default results/evaluate-...)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing results directory")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation, write the results directory and print the tables."""
    import warnings

    from sim import results
    from sim.validation.skill import evaluate, plan

    pl = plan.load(args.file)
    out = args.out or results.default_dir(f"evaluate-{args.file.stem}", f"-seed{pl.seed}")
    check_writable(out, "--out", folder=True)
    started = results.now()
    with warnings.catch_warnings():
        # statsmodels warns when an optimiser stops at its iteration limit on a short series;
        # the fit is still the likelihood's best found and is scored like any other.
        warnings.simplefilter("ignore")
        ev = evaluate.run(pl)
    with results.claim(out):
        results.check_target(out, args.force)
        with results.staged(out) as tmp:
            results.write_table(ev.forecasts, tmp / "forecasts.parquet")
            results.write_table(ev.summary, tmp / "summary.parquet")
            results.write_table(ev.paired, tmp / "paired.parquet")
            results.write_table(ev.pit, tmp / "pit.parquet")
            results.write_table(ev.coefficients, tmp / "coefficients.parquet")
            meta = metadata(ev, args.file, started)
            results.write_json(meta, tmp / "metadata.json")
            if not args.no_figures:
                from sim.report import skill as figures

                figures.write_figures(tmp, figures.caption_of(meta))
    print(render(ev))
    print(f"results: {out}")
    return 0


def metadata(ev, file: Path, started: str) -> dict:
    """The self-description of an evaluation results directory."""
    from sim import results

    pl = ev.plan
    return {
        "format": results.FORMAT,
        "format_version": results.FORMAT_VERSION,
        "kind": "evaluation",
        "command": sys.argv[1:] if sys.argv else None,
        "evaluation_name": file.stem,
        "evaluation_file": str(file),
        "evaluation_sha256": results.file_sha256(file),
        "scenario_source": pl.scenario,
        "data_file": ev.data_file,
        "data_sha256": ev.data_sha256,
        "last_year": ev.last_year,
        "origins": [min(pl.origins), max(pl.origins)],
        "horizons": [min(pl.horizons), max(pl.horizons)],
        "pairs": [f"{a}-{b}" for a, b in pl.pairs],
        "forecasters": {f.name: f.kind for f in pl.forecasters},
        "reference": ev.reference,
        "seed": pl.seed,
        "samples": pl.samples,
        "versions": results.versions(),
        "started": started,
        "finished": results.now(),
    }


def _num(x: float, fmt: str = "{:.3f}") -> str:
    return "n/a" if x != x else fmt.format(x)


def render(ev) -> str:
    """The overall table, per-pair CRPS and the model's coefficient per origin, as text."""
    s = ev.summary
    covers = [c for c in s.columns if c.startswith("cover_")]
    paired = ev.paired[ev.paired.group == "all"].set_index("forecaster")
    lines = [
        f"Rolling origin {min(ev.plan.origins)}-{max(ev.plan.origins)}, horizons "
        f"{min(ev.plan.horizons)}-{max(ev.plan.horizons)}, data to {ev.last_year}; reference "
        f"{ev.reference}. CRPS: lower is better.",
        f"{'forecaster':<20}{'n':>5}{'CRPS':>8}"
        + "".join(f"{c.replace('cover_', 'cov') + '%':>8}" for c in covers)
        + "   minus reference [90% block bootstrap]",
    ]
    for r in s[s.group == "all"].itertuples():
        d = "reference"
        if r.forecaster in paired.index:
            x = paired.loc[r.forecaster]
            d = f"{_num(x['mean'], '{:+.3f}')} [{_num(x.low, '{:+.3f}')}, "
            d += f"{_num(x.high, '{:+.3f}')}] on {x.n}"
        cov = "".join(f"{getattr(r, c) * 100:>8.0f}" for c in covers)
        lines.append(f"{r.forecaster:<20}{r.n:>5}{r.crps:>8.3f}{cov}   {d}")
    per_pair = s[s.group.str.startswith("pair=")]
    if not per_pair.empty:
        wide = per_pair.pivot(index="group", columns="forecaster", values="crps")
        wide = wide[[f.name for f in ev.plan.forecasters if f.name in wide.columns]]
        wide.index = wide.index.str.removeprefix("pair=")
        lines += ["", "Mean CRPS per pair:", wide.round(3).to_string()]
    lines += ["", f"Minus {ev.reference} per pair, same forecasts [90% block bootstrap]:"]
    for f in ev.plan.forecasters:
        if f.naive:
            continue
        part = ev.paired[(ev.paired.forecaster == f.name) & (ev.paired.group != "all")]
        for r in part.itertuples():
            lines.append(
                f"  {f.name:<12}{r.group.removeprefix('pair='):<22}{_num(r.mean, '{:+.3f}')} "
                f"[{_num(r.low, '{:+.3f}')}, {_num(r.high, '{:+.3f}')}] n={r.n}"
            )
    if not ev.coefficients.empty:
        lines += ["", "The model's drift coefficient per origin (90% interval, n forecasts):"]
        for r in ev.coefficients.itertuples():
            lines.append(
                f"  {r.origin}: {r.beta:+.2f} [{_num(r.low, '{:+.2f}')}, "
                f"{_num(r.high, '{:+.2f}')}] n={r.n}"
            )
    return "\n".join(lines)
