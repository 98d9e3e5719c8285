"""`sim forecast QUESTIONS [--seal]` and `sim forecast verify RECORD`: sealed forecasts.

``sim forecast QUESTIONS`` answers a questions file (probabilities and quantiles from runs of
its scenario with parameter uncertainty) and prints the answers; with ``--seal`` it writes a
forecast record (forecasts/records/<name>.json by default) and appends its SHA-256 to the
ledger (forecasts/LEDGER.md). ``sim forecast verify RECORD`` checks the record against the
ledger and its inputs' hashes, re-runs it and says whether it reproduces (exit 0) or not
(exit 1).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sim.commands import progress
from sim.commands.common import check_writable
from sim.errors import SimInputError

DEFAULT_LEDGER = Path("forecasts") / "LEDGER.md"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `forecast` subcommand."""
    p = sub.add_parser(
        "forecast",
        help="answer forecast questions; seal the answers in a ledger; verify a sealed record",
        description="`sim forecast QUESTIONS [--seal]` answers a questions file from runs of "
        "its scenario (parameters from the evidence ranges or --posterior) and, with --seal, "
        "writes a forecast record and appends its SHA-256 to the ledger. "
        "`sim forecast verify RECORD` checks a sealed record and re-runs it.",
    )
    p.add_argument(
        "target", nargs="+", metavar="QUESTIONS | verify RECORD", help="a questions file, or "
        "'verify' and one or more records"
    )  # fmt: skip
    p.add_argument(
        "--seal", action="store_true", help="write the record and append it to the ledger"
    )
    p.add_argument(
        "--posterior",
        type=Path,
        default=None,
        help="a calibration directory (sim calibrate) of the scenario or of one it extends; "
        "needed by unga_distance questions, which are read through its measurement model",
    )
    p.add_argument(
        "--ledger", type=Path, default=DEFAULT_LEDGER,
        help=f"the ledger (default {DEFAULT_LEDGER}); records go to records/ beside it",
    )  # fmt: skip
    p.add_argument(
        "--skill",
        type=Path,
        default=None,
        help="a rolling-origin evaluation directory (sim evaluate): show, beside each measured "
        "answer, that forecaster's rolling-origin CRPS and interval coverage at its horizon",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Answer, seal or verify."""
    words = args.target
    if words[0] == "verify":
        if len(words) < 2 or args.seal or args.posterior or args.skill:
            raise SimInputError(
                "expected `sim forecast verify RECORD [RECORD ...]`", found=" ".join(words)
            )
        for record in words[1:]:  # refuse a missing record before re-running any
            if not os.path.lexists(record):  # a FIFO or device: the bounded reader refuses it
                raise SimInputError("no such record", file=record)
        codes = [verify(Path(record), args.ledger) for record in words[1:]]
        if len(codes) > 1:
            print(f"{codes.count(0)} of {len(codes)} records reproduce")
        return max(codes)
    if len(words) != 1:
        raise SimInputError("expected one questions file", found=" ".join(words))
    from sim import results
    from sim.validation.forecast import forecast, ledger

    if args.seal:
        check_writable(args.ledger, "--ledger", folder=False)
        ledger.rows(args.ledger)  # an unreadable ledger (a FIFO, a device) is refused up front

    qs = forecast.load_questions(words[0])
    skill = _skill(args.skill, qs, args.posterior) if args.skill else None
    progress.status(f"answering {len(qs.questions)} questions from {qs.replicates:,} runs ...")
    if args.seal:
        out, row = forecast.seal(qs, args.ledger, results.now(), args.posterior)
        import json

        print(render(json.loads(out.read_text(encoding="utf-8")), skill))
        print(f"sealed: {out} (SHA-256 {row.sha256}) in {args.ledger}")
    else:
        print(render(forecast.answer(qs, args.posterior), skill))
        print("not sealed (pass --seal to record it in the ledger)")
    return 0


def verify(record: Path, ledger: Path) -> int:
    """Print each verification check; 0 if all pass, 1 if any fails."""
    from sim.validation.forecast import forecast
    from sim.validation.forecast import ledger as ledger_mod

    if not record.exists():
        raise SimInputError("no such record", file=str(record))
    ledger_mod.rows(ledger)  # read (bounded) before any work
    progress.status(f"verifying {record}: hashes, then a re-run ...")
    checks = forecast.verify(record, ledger)
    for c in checks:
        print(f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.detail}")
    good = all(c.passed for c in checks)
    print(f"{record}: {'reproduces' if good else 'does NOT verify'}")
    return 0 if good else 1


def _skill(path: Path, qs, posterior: Path | None) -> dict:
    """What `render` needs to show rolling-origin skill: the forecaster's scores by horizon
    (from an evaluation directory's summary) and the answers' cutoff.
    """
    import pandas as pd

    from sim import results

    meta = results.read_marked(
        path, "evaluation directory", "kind", "evaluation", "not an evaluation directory"
    )
    name = "core" if qs.forecaster == "core" else "model"
    if qs.forecaster == "core":
        until = qs.until
    elif posterior is not None:
        from sim.validation.calibration.posterior import read_metadata

        until = int(read_metadata(posterior).get("until", 0))
    else:
        until = None
    summary = pd.read_parquet(path / "summary.parquet")
    rows = summary[(summary.forecaster == name) & summary.group.str.startswith("horizon=")]
    by_h = {int(r.group.removeprefix("horizon=")): r for r in rows.itertuples()}
    return {"name": name, "until": until, "by_h": by_h, "origins": meta.get("origins")}


def _skill_line(answer: dict, skill: dict) -> str | None:
    if "year" not in answer or skill["until"] is None:
        return None
    h = answer["year"] - skill["until"]
    r = skill["by_h"].get(h)
    where = f"rolling origin {skill['origins'][0]}-{skill['origins'][1]}, {skill['name']}"
    if r is None:
        return f"      {where}: not evaluated {h} sessions ahead"
    return (
        f"      {where}, {h} ahead: CRPS {r.crps:.3f}, 50% intervals covered "
        f"{r.cover_50:.0%}, 90% intervals {r.cover_90:.0%} (n={r.n})"
    )


def render(record: dict, skill: dict | None = None) -> str:
    """The answers of a record as text (with ``skill``: the rolling-origin scores of the
    forecaster at each answer's horizon).
    """
    lines = [
        f"Forecast {record['name']}: scenario {record['scenario_name']} to {record['horizon']}, "
        f"{record['replicates']} runs, seed {record['seed']}",
        f"Parameters: {record['parameters']}",
    ]
    for a in record["answers"]:
        if a["type"] == "binary":
            value = f"P = {a['probability']:.3f}"
        else:
            q = a["quantiles"]
            value = "quantiles " + ", ".join(f"{k}: {v:.3g}" for k, v in q.items())
        lines.append(f"  {a['id']} ({a['window'][0]}..{a['window'][1]}): {value}")
        lines.append(f"      {a['label']}")
        line = _skill_line(a, skill) if skill else None
        if line:
            lines.append(line)
    return "\n".join(lines)
