"""`sim calibrate SCENARIO --until YEAR`: learn parameters from UN General Assembly ideal points.

Screens the candidates (SALib Morris on the calibration distance) unless ``--parameters`` names
them, runs pyabc's ABC-SMC and writes a self-describing calibration directory
(`sim.validation.calibration.record`). docs/calibration.md explains the method and its limits.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.commands import progress
from sim.commands.common import (
    add_scenario_argument,
    add_workers_argument,
    check_out_dir,
    count,
)
from sim.commands.sweep import check_scheduler
from sim.errors import SimInputError
from sim.scenario import BASELINE
from sim.scenario.limits import MAX_GENERATIONS, MAX_POPULATION, MAX_SEED, check_run_months

DEFAULT_SEED = 2019
DEFAULT_TOP = 5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `calibrate` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="calibrate parameters to UN General Assembly ideal points (ABC-SMC, pyabc)",
        description="Learn scenario parameters and the measurement model's scale, offset and "
        "noise from UN General Assembly ideal-point distances up to a cutoff year, by "
        "approximate Bayesian computation (pyabc ABC-SMC; priors: the evidence ranges). "
        "Writes a calibration directory for `--posterior` of run, sweep, validate and report.",
    )
    add_scenario_argument(p, BASELINE)
    p.add_argument(
        "--until",
        type=count(1946, 9999, "a year"),
        required=True,
        metavar="YEAR",
        help="data cutoff: no session that opened after this year is read",
    )
    p.add_argument(
        "--parameters",
        nargs="+",
        metavar="NAME",
        default=None,
        help="dotted names to calibrate (default: the most influential by Morris screening)",
    )
    p.add_argument(
        "--top",
        type=count(1, 1000),
        default=DEFAULT_TOP,
        help=f"how many screened parameters to calibrate (default {DEFAULT_TOP})",
    )
    p.add_argument(
        "--population",
        type=count(10, MAX_POPULATION),
        default=400,
        help=f"particles per generation (default 400; at most {MAX_POPULATION:,})",
    )
    p.add_argument(
        "--generations",
        type=count(1, MAX_GENERATIONS),
        default=8,
        help=f"most generations (default 8; at most {MAX_GENERATIONS:,})",
    )
    p.add_argument(
        "--seed",
        type=count(0, MAX_SEED),
        default=DEFAULT_SEED,
        help=f"seed (default {DEFAULT_SEED})",
    )
    p.add_argument(
        "--sampler",
        choices=("batch", "multicore"),
        default="batch",
        help="batch: a generation's particles in one engine call, reproducible (default); "
        "multicore: pyabc's MulticoreEvalParallelSampler, one call per particle",
    )
    add_workers_argument(p, 2, "processes of the multicore sampler (default 2)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run pyabc's DaskDistributedSampler on this Dask scheduler (e.g. tcp://host:8786)",
    )
    p.add_argument("--out", type=Path, default=None, help="directory (default calibrations/...)")
    p.add_argument("--force", action="store_true", help="replace an existing directory")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    """What argparse cannot check alone: parameters named twice, the scheduler's address."""
    if args.parameters:
        twice = sorted({n for n in args.parameters if args.parameters.count(n) > 1})
        if twice:
            raise SimInputError(
                "a parameter is named twice", field="--parameters", found=twice[0],
                allowed="each dotted name once",
            )  # fmt: skip
    if args.scheduler:
        check_scheduler(args.scheduler)


def run(args: argparse.Namespace) -> int:
    """Screen, calibrate, write the calibration directory and print what it learned."""
    import logging

    from sim import results
    from sim.scenario import load
    from sim.scenario.evidence import evidence_ranges
    from sim.validation.calibration import calibration, predictive, record, screening
    from sim.validation.calibration import problem as problem_mod

    _check(args)
    try:
        import pyabc  # noqa: F401 - configures its loggers on import; quieten them after
    except ImportError:
        raise SimInputError(
            "sim calibrate needs pyabc and SALib", allowed="pip install 'sim[calibrate]'"
        ) from None

    logging.getLogger("ABC").setLevel(logging.WARNING)  # per-generation chatter
    started = results.now()
    path = str(args.scenario)
    sc = load(path)
    ranges = evidence_ranges(path)
    out = args.out or Path("calibrations") / f"{sc.name}_until_{args.until}"
    check_out_dir(out, args.force)
    base = problem_mod.build(sc, path, [], ranges, args.until, args.seed)
    screened = None
    if args.parameters:
        names = tuple(args.parameters)
    else:
        t0 = time.perf_counter()
        cands = problem_mod.candidates(base.params, ranges)
        progress.say(f"screening {len(cands)} candidates (Morris) ...")
        screened = screening.screen(base, cands, ranges, seed=args.seed)
        names = screened.top(args.top)
        progress.say(f"screening done in {time.perf_counter() - t0:.1f} s")
    problem = problem_mod.build(sc, path, names, ranges, args.until, args.seed)
    check_run_months(args.population, problem.months, "--population")
    with results.writing(out, args.force) as tmp:
        settings = calibration.Settings(
            population=args.population,
            generations=args.generations,
            sampler=args.sampler,
            workers=args.workers,
            scheduler=args.scheduler,
        )
        progress.say(
            f"calibrating {len(problem.names)} parameters on "
            f"{len(problem.statistics)} statistics "
            f"(sessions {problem.observed.years[0]}-{problem.observed.years[-1]}, cutoff "
            f"{args.until}) ..."
        )
        show = progress.generations("calibrating")
        cal = calibration.calibrate(problem, settings, tmp / "history.db", progress=show)
        predicted = predictive.simulate(problem, cal.posterior, 1000, args.seed)
        bands = predictive.bands(problem, predicted)
        cover = predictive.coverage(bands)
        meta = record.metadata(
            cal,
            screened,
            cover,
            command=sys.argv[1:] if sys.argv else None,
            scenario_path=path,
            started=started,
            finished=results.now(),
        )
        record.write(tmp, cal, screened, bands, meta)
        if not args.no_figures:
            _figures(tmp / "figures", cal, screened, bands)
    d = cal.diagnostics.iloc[-1]
    print(
        f"{sc.title}: {len(cal.diagnostics)} generations of {settings.population} particles, "
        f"{int(cal.diagnostics.evaluations.sum())} evaluations in {cal.seconds:.0f} s; last "
        f"acceptance rate {d.acceptance_rate:.3f}, effective sample size "
        f"{d.effective_sample_size:.0f}"
    )
    print("\n".join(record.summary_lines(cal, cover)))
    print(f"calibration: {out}")
    return 0


def _figures(folder: Path, cal, screened, bands) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.report import calibration as figs
    from sim.report import figures

    pb = cal.problem
    caption = (
        f"scenario {pb.scenario.name}; data up to {pb.until}; seed {pb.seed}; "
        f"{len(cal.posterior)} particles"
    )
    values = pb.scenario.parameters()
    ax = figs.marginals(cal.posterior, pb.names, pb.low, pb.high, values)
    figures.save(ax, folder / "marginals", caption)
    plt.close(ax.figure)
    ax = figs.pairs(cal.posterior, pb.names)
    figures.save(ax, folder / "pairs", caption)
    plt.close(ax.figure)
    labels = {a.id: a.label for a in pb.scenario.actors}
    ax = figs.predictive(bands, pb.observed.history, pb.declaration.anchor, labels)
    figures.save(ax, folder / "predictive", caption)
    plt.close(ax.figure)
    if screened is not None:
        ax = figs.screening(screened.table, pb.model_names)
        figures.save(ax, folder / "screening", caption)
        plt.close(ax.figure)
