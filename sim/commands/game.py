"""`sim game SCENARIO --date YYYY-MM [--game deal|nuclear]`: the strategic game, solved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.common import add_scenario_argument, check_counts, check_writable, count
from sim.errors import SimInputError
from sim.scenario import BASELINE
from sim.scenario.limits import MAX_REPLICATES, MAX_SEED

GAMES = ("deal", "nuclear")  # as sim.game.trees.GAMES; repeated so --help stays cheap


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `game` subcommand."""
    p = sub.add_parser(
        "game",
        help="the scenario's strategic game at a date, solved with Gambit",
        description="Build the extensive-form game of the deal (the West offers, Russia trades "
        "or keeps backing Iran, Iran responds, the West honours or reneges) or of the nuclear "
        "file (the West engages or isolates, Iran responds) from a scenario at a date, with "
        "payoffs from the model's own utility terms over a horizon; solve it with Gambit "
        "(subgame-perfect and pure Nash equilibria, logit QRE at the scenario's choice "
        "temperature); search thresholds; set the QRE beside the moves the simulated runs "
        "made. Writes the Gambit .efg file, a tree figure and a JSON of the results.",
    )
    add_scenario_argument(p, BASELINE)
    p.add_argument("--date", required=True, help="calendar month of the game, e.g. 2016-06")
    p.add_argument("--game", default="deal", help="deal (default) or nuclear")
    p.add_argument(
        "--horizon",
        type=count(1, 120),
        default=12,
        help="months over which payoffs are counted (default 12)",
    )
    p.add_argument(
        "--discount", type=float, default=0.95, help="monthly discount factor (default 0.95)"
    )
    p.add_argument(
        "--replicates",
        "-n",
        type=count(1, MAX_REPLICATES),
        default=100,
        help="runs whose states at the date the payoffs average over (default 100)",
    )
    p.add_argument("--seed", type=count(0, MAX_SEED), default=0, help="seed of the runs (0)")
    p.add_argument(
        "--offer",
        type=float,
        default=None,
        help="deal game: the stake the West's offer adds (default: the scenario's offer event)",
    )
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME[=LOW:HIGH]",
        help="search where the equilibrium property switches along a parameter: 'offer' "
        "(the stake the West's offer adds; default range 0:6) or a scenario parameter "
        "(range required); repeatable",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH:N",
        help="evaluate the equilibrium property on a grid of parameter values (offer or "
        "scenario parameters; repeatable, full factorial), written to DIR/grid as a "
        "sweep-shaped directory that `sim levers DIR/grid --outcome equilibrium` reads",
    )
    p.add_argument("--out", type=Path, default=None, help="results directory")
    p.add_argument("--force", action="store_true", help="replace an existing results directory")
    p.set_defaults(func=game)


def parse_threshold(text: str) -> tuple[str, float, float]:
    """``NAME`` or ``NAME=LOW:HIGH`` as (name, low, high); ``offer`` defaults to 0:6."""
    name, sep, rng = text.partition("=")
    name = name.strip()
    if not sep:
        if name != "offer":
            raise SimInputError(
                "needs a range", field="--threshold", found=text, allowed="NAME=LOW:HIGH"
            )
        return name, 0.0, 6.0
    try:
        low, high = (float(x) for x in rng.split(":"))
    except ValueError:
        raise SimInputError(
            "expected NAME=LOW:HIGH", field="--threshold", found=text, allowed="e.g. offer=0:6"
        ) from None
    if not low < high:
        raise SimInputError("LOW must be below HIGH", field="--threshold", found=text)
    return name, low, high


def game(args: argparse.Namespace) -> int:
    """Build, solve, print and write the game."""
    from sim import results, scenario
    from sim.game import gambit, study

    if args.game not in GAMES:
        raise SimInputError(
            "unknown game", field="--game", found=args.game, allowed=", ".join(GAMES)
        )
    from sim.game import stage

    check_counts(args.replicates, None, args.seed)
    if not 0.0 < args.discount <= 1.0:
        raise SimInputError("must be in (0, 1]", field="--discount", found=args.discount)
    if args.offer is not None and (args.game != "deal" or not args.offer >= 0):
        raise SimInputError(
            "applies to the deal game, as a stake of 0 or more", field="--offer", found=args.offer
        )
    thresholds = [parse_threshold(t) for t in args.threshold]
    grid = dict(study.parse_grid(g) for g in args.grid)
    sc = scenario.load(args.scenario)
    stage.month_of(sc, args.date)
    known = sc.parameters()
    for name, _, _ in [*thresholds, *((g, 0, 0) for g in grid)]:
        if name != "offer" and name not in known:
            raise SimInputError(
                "unknown parameter",
                field="--threshold/--grid",
                found=name,
                allowed="offer or a name from `sim run --list-parameters`",
            )
        if name == "offer" and args.game != "deal":
            raise SimInputError(
                "'offer' is a parameter of the deal game", field="--threshold/--grid"
            )
    gambit.gbt()  # refuse early, in one line, if pygambit is missing
    out = args.out or results.default_dir(
        sc.name, f"-game-{args.game}-{args.date.replace('-', '')}"
    )
    check_writable(out, "--out", folder=True)
    results.check_target(out, args.force)
    started = results.now()
    s = study.study(
        args.scenario,
        args.date,
        args.game,
        horizon=args.horizon,
        discount=args.discount,
        replicates=args.replicates,
        seed=args.seed,
        thresholds=thresholds,
        offer=args.offer,
    )
    print(study.describe(s))
    table = None
    if grid:
        table = study.sweep(
            args.scenario,
            args.date,
            study.grid(**grid),
            args.game,
            horizon=args.horizon,
            discount=args.discount,
            replicates=args.replicates,
            seed=args.seed,
            offer=args.offer,
        )
        print("")
        print(study.describe_grid(table, list(grid), study.property_of(s.tree)[2]))
    with results.claim(out):
        results.check_target(out, args.force)
        with results.staged(out) as tmp:
            _write(args, s, sc, tmp, started, table, list(grid))
    print(f"results: {out}")
    return 0


def _write(args: argparse.Namespace, s, sc, tmp: Path, started: str, table, names) -> None:
    from sim import results
    from sim.game import gambit, study
    from sim.report import game as game_figures

    gambit.write_efg(s.game, tmp / "game.efg")
    rec = study.record(s)
    results.write_json(rec, tmp / "game.json")
    meta = results.run_metadata(
        kind="game",
        command=sys.argv[1:] if sys.argv else None,
        scenario=sc,
        seed=args.seed,
        replicates=args.replicates,
        months=s.tree.stage.month,
        overrides={},
        started=started,
        finished=results.now(),
    )
    meta["game"] = {k: rec[k] for k in ("game", "date", "horizon", "discount", "lambda")}
    meta["versions"]["pygambit"] = gambit.gbt().__version__
    game_figures.save_tree(s, tmp / "tree", game_figures.caption_of(meta))
    results.write_json(meta, tmp / "metadata.json")
    if table is not None:
        grid_meta = {**meta, "experiment": {"name": f"{sc.name}-game-{args.game}-grid"}}
        study.write_grid(table, tmp / "grid", grid_meta, names)
