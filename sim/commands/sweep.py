"""`sim sweep EXPERIMENT`: run an experiment's points x replicates into a resumable dataset."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sim import signals
from sim.commands import progress
from sim.commands.common import (
    add_posterior_argument,
    add_workers_argument,
    check_out_dir,
    check_writable,
    count,
    load_posterior,
)
from sim.errors import SimInputError
from sim.scenario.limits import MAX_REPLICATES


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `sweep` subcommand."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep (experiment file) into a resumable Parquet dataset",
        description="Run an experiment's design points x replicates with the array engine, "
        "locally or on a Dask cluster, writing one Parquet file per chunk. Rerunning the same "
        "command resumes an interrupted sweep.",
    )
    p.add_argument(
        "experiment", help="experiment file (TOML), e.g. experiments/betrayal_sweep.toml"
    )
    add_workers_argument(p, 1, "local worker processes (default 1: run in this process)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (overrides --workers)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="results directory (default results/<experiment>)"
    )
    p.add_argument(
        "--force", action="store_true", help="delete an existing results directory and start over"
    )
    p.add_argument(
        "--chunk-size",
        type=count(1, MAX_REPLICATES),
        default=None,
        metavar="N",
        help="runs per chunk, rounded to whole points (default 2000)",
    )
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="record failing runs in failures.json and continue with the other chunks",
    )
    add_posterior_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run or resume the sweep and print where the results are."""
    from sim import results
    from sim.sweeps import experiment
    from sim.sweeps import runner as sweep

    if args.chunk_size is not None and args.chunk_size < 1:
        raise SimInputError("must be at least 1", field="--chunk-size", found=args.chunk_size)
    if args.scheduler:
        check_scheduler(args.scheduler)
        # When the cluster goes away, the client and the event loop under it (tornado, asyncio)
        # log tracebacks of the failed reconnection and gather; the one line below says what
        # happened and what is kept.
        quiet = ("distributed", "distributed.client", "distributed.core", "distributed.comm")
        for name in (*quiet, "distributed.utils_comm", "tornado.application", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    exp = experiment.load_experiment(args.experiment)
    post = load_posterior(args.posterior, exp.scenario)
    out = args.out or results.default_dir(exp.name)
    check_writable(out, "--out", folder=True)
    check_out_dir(out, args.force, resumes=True)
    try:
        with progress.bar(exp.name, None, "run") as bar:
            summary = sweep.run_sweep(
                exp,
                out,
                workers=args.workers,
                scheduler=args.scheduler,
                chunk_size=args.chunk_size,
                force=args.force,
                keep_going=args.keep_going,
                command=sys.argv[1:] if sys.argv else None,
                progress=bar.start,
                posterior=post,
            )
    except sweep.RunFailure as exc:
        print(f"sim sweep: error: {exc}", file=sys.stderr)
        return 1
    except cluster_lost(args.scheduler) as exc:
        print(
            f"sim sweep: error: --scheduler: the Dask cluster at {args.scheduler} went away "
            f"({type(exc).__name__}); finished chunks are kept in {out}: rerun the same command "
            "to resume",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt as exc:
        if results.is_own(out):  # the sweep had started: its metadata now says "interrupted"
            raise signals.noted(
                exc, f"finished chunks are kept in {out}; run the same command again to resume"
            ) from None
        raise
    where = f"Dask cluster {args.scheduler}" if args.scheduler else f"{args.workers} worker(s)"
    print(
        f"{exp.name}: {summary.runs} runs ({summary.chunks} chunks, {summary.skipped} already "
        f"done, {summary.written} written) on {where} in {summary.seconds:.1f} s"
    )
    if summary.failures:
        print(f"{len(summary.failures)} chunk(s) failed; see {out / 'failures.json'}")
    if post:
        print(f"Each replicate's parameters drawn from the posterior: {post.note}")
    print(f"results: {out}")
    return 1 if summary.failures else 0


def check_scheduler(address: str) -> None:
    """Refuse a malformed ``--scheduler`` address before anything is written."""
    try:
        from distributed.comm.addressing import get_address_host_port
    except ImportError:
        return  # the runner says that --scheduler needs dask.distributed
    try:
        get_address_host_port(address)
    except (ValueError, NotImplementedError) as exc:
        raise SimInputError(
            f"not a Dask scheduler address ({exc})",
            field="--scheduler",
            allowed="tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786",
        ) from None


def cluster_lost(scheduler: str | None) -> tuple[type[BaseException], ...]:
    """The errors by which a Dask sweep learns that its cluster went away (none if local).

    When the scheduler dies, the futures in flight are cancelled and the connection closes;
    the chunks written before stay on disk and a rerun resumes from them.
    """
    if not scheduler:
        return ()
    from concurrent.futures import CancelledError

    from distributed.comm import CommClosedError

    return (CancelledError, CommClosedError)
