"""`sim explain SOURCE`: why actors chose what they chose, term by term of expected utility."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands import progress
from sim.commands.common import (
    add_force_argument,
    check_counts,
    check_out_file,
    count,
    write_csv,
)
from sim.errors import SimInputError
from sim.scenario import BASELINE
from sim.scenario.limits import (
    MAX_DESIGN_POINTS,
    MAX_MONTHS,
    MAX_REPLICATES,
    MAX_SEED,
    check_run_months,
)

DEFAULT_REPLICATES = 100


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `explain` subcommand."""
    p = sub.add_parser(
        "explain",
        help="decompose actors' choices into the terms of their expected utility",
        description="Explain choices: each actor's expected utility split into named terms "
        "(each issue, relations, trust, cost of dependence, policy commitment, cost of "
        "change). Without --replicate: the chosen action's advantage over the best "
        "alternative, by term, averaged over runs and months. With --replicate: one run and "
        "month in words and as a waterfall figure. SOURCE is a scenario file (its runs are "
        "simulated) or a results directory (its runs are rerun from their random streams and "
        "checked against the stored ones).",
    )
    p.add_argument(
        "source",
        nargs="?",
        default=BASELINE,
        help="scenario file or results directory (default: the shipped baseline scenario)",
    )
    p.add_argument(
        "--replicate", "-r", type=count(0, MAX_REPLICATES), default=None, help="explain one run"
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--month", type=count(1, MAX_MONTHS), default=None, help="month of the run (1 = start)"
    )
    when.add_argument("--date", default=None, help="calendar month of the run, e.g. 2017-03")
    p.add_argument(
        "--actor",
        default=None,
        help="whose choice (default: the declared defection's actor for one run; every "
        "actor for the average)",
    )
    p.add_argument("--against", default=None, help="compare with this action (one run)")
    p.add_argument(
        "--point",
        type=count(0, MAX_DESIGN_POINTS),
        default=None,
        help="design point of a sweep's results",
    )
    p.add_argument(
        "--replicates",
        "-n",
        type=count(1, MAX_REPLICATES),
        default=None,
        help=f"runs to average over (default: all of a results directory's, or "
        f"{DEFAULT_REPLICATES} of a scenario)",
    )
    p.add_argument(
        "--seed",
        type=count(0, MAX_SEED),
        default=0,
        help="seed of a scenario's runs (default 0)",
    )
    p.add_argument(
        "--months",
        type=count(1, MAX_MONTHS, "the cap on a scenario's horizon"),
        default=None,
        help="horizon of a scenario's runs",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a scenario number (scenario files only; repeatable)",
    )
    p.add_argument(
        "--changes-only",
        action="store_true",
        help="average only over months in which the actor changed policy",
    )
    p.add_argument("--figure", type=Path, default=None, help="write the figure (PNG and SVG)")
    p.add_argument("--csv", type=Path, default=None, help="write the average table as CSV")
    add_force_argument(p, "existing --csv and --figure files")
    p.set_defaults(func=explain)


def _replay(args: argparse.Namespace):
    from sim import replay
    from sim.commands.run import parse_overrides

    source = Path(args.source)
    if source.is_dir():
        for flag, value in (("--set", args.overrides), ("--months", args.months)):
            if value:
                raise SimInputError(
                    "applies to scenario files only; a results directory reruns what it stored",
                    field=flag,
                )
        return replay.from_results(source, args.point)
    if args.point is not None:
        raise SimInputError("applies to a sweep's results directory only", field="--point")
    n = DEFAULT_REPLICATES if args.replicates is None else args.replicates
    check_counts(n, args.months, args.seed)
    return replay.from_scenario(
        source,
        parse_overrides(args.overrides),
        seed=args.seed,
        replicates=n,
        months=args.months,
    )


def _default_actor(rp) -> str:
    # The actor of the first declared outcome that is one actor's action (a defection).
    acting = [o.fields["actor"] for o in rp.scenario.outcomes if "action" in o.fields]
    return acting[0] if acting else rp.params.actors[0]


def explain(args: argparse.Namespace) -> int:
    """Print the explanation; write the figure and table if asked."""
    from sim import explain as ex

    check_out_file(args.figure, args.force, "--figure", figure=True)
    check_out_file(args.csv, args.force, "--csv")

    rp = _replay(args)
    if args.actor is not None and args.actor not in rp.params.actors:
        raise SimInputError(
            "unknown actor", field="--actor", found=args.actor, allowed=", ".join(rp.params.actors)
        )
    if args.replicate is None:
        if args.month is not None or args.date is not None or args.against is not None:
            raise SimInputError("needs --replicate (one run)", field="--month/--date/--against")
        return _aggregate(args, rp, ex)
    actor = args.actor or _default_actor(rp)
    rp.check_replicate(args.replicate)
    if args.month is None and args.date is None:
        month, why = ex.default_month(rp, args.replicate, actor)
        print(f"(no month given: {why})")
    else:
        month = rp.month_of(args.month, args.date)
    acc = ex.account(rp, args.replicate, month, actor, args.against)
    print(ex.describe(acc))
    if args.figure:
        from sim.report import figures

        ax = figures.waterfall(
            waterfall_steps(acc),
            title=f"Why {acc.actor_label} chose '{acc.chosen}' over '{acc.against}': "
            f"run {acc.replicate}, {acc.date}",
            start=f"'{acc.against}' ({acc.why_against})",
            end=f"'{acc.chosen}' (chosen)",
        )
        for path in figures.save(ax, args.figure, f"{acc.source}; seed {rp.seed}"):
            print(path)
    return 0


def waterfall_steps(acc, top: int = 8) -> list[tuple[str, float]]:
    """The largest terms of an account (and the rest as one step), for a waterfall."""
    ranked = sorted(acc.terms.items(), key=lambda kv: -abs(kv[1]))
    # Issue labels carry their scale in brackets; the figure keeps the name only.
    steps = [(acc.term_labels[t].split(" (")[0], v) for t, v in ranked[:top]]
    rest = sum(v for _, v in ranked[top:])
    if abs(rest) > 1e-9:
        steps.append(("other terms", rest))
    return steps


def _aggregate(args: argparse.Namespace, rp, ex) -> int:
    n = rp.replicates if args.replicates is None else args.replicates
    if n < 1 or n > rp.replicates:
        raise SimInputError(
            "out of range", field="--replicates", found=n, allowed=f"1 to {rp.replicates}"
        )
    check_run_months(n, rp.months, "--replicates")  # before anything is simulated
    if rp.stored is not None:  # the reruns must be the stored runs, or explain nothing
        import numpy as np

        from sim import replay

        reps = np.arange(n)
        replay.check(rp, reps, rp.simulate(reps))
    progress.status(f"explaining {n:,} runs x {rp.months} months ...")
    table = ex.aggregate(rp, n, changes_only=args.changes_only)
    if args.actor:
        table = table[table.actor == args.actor]
    issue_labels = {x.id: x.id for x in rp.scenario.issues}
    labels = {t: ex.label(t, issue_labels) for t in ex.term_ids(rp.params)}
    what = "months with a policy change" if args.changes_only else "run-months"
    print(
        f"Why each action was chosen: its mean advantage in expected utility over the best "
        f"alternative, by term, over {n} runs x {rp.months} months ({what}); {rp.source}, "
        f"seed {rp.seed}. Largest terms first."
    )
    print(ex.describe_aggregate(table, labels))
    if args.csv:
        write_csv(table, args.csv, args.force, "--csv")
        print(args.csv)
    if args.figure:
        from sim.report import figures

        actor = args.actor or _default_actor(rp)
        rows = table[table.actor == actor].set_index("action")
        if rows.empty:
            raise SimInputError(f"{actor} made no choice to explain", field="--actor")
        data = rows[list(labels)].T.rename(index=labels)
        data = data[(data.abs() > 1e-3).any(axis=1)]  # terms that never matter add only clutter
        ax = figures.term_bars(
            data,
            title=f"What pulled {rp.scenario.label(actor)}'s choices above the best "
            f"alternative ({what})",
        )
        for path in figures.save(ax, args.figure, f"{rp.source}; {n} runs; seed {rp.seed}"):
            print(path)
    return 0
