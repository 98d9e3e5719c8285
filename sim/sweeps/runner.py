"""Sweeps: chunked runs of an experiment's points x replicates, streamed to a Parquet dataset.

One engine: a chunk of whole points (all their replicates) runs as one batch through
`sim.model.engine.simulate`, with per-row parameter values set by `Params.assign` and each run's
stream keyed by (seed, point, replicate) (`sim.model.rng.run_keys`). So a run's results depend on
nothing but the experiment: not the chunk size, the number of workers or the executor.

Executors: in-process (1 worker), local processes (`ProcessPoolExecutor` with an explicit
forkserver context; never `import mesa` here, it forces 'spawn'), or a Dask distributed cluster
(`Client(address).get_executor()`). At most a few chunks are in flight at once, and each chunk's
trajectories are reduced where it ran, so memory stays bounded however large the sweep.

Results directory::

    metadata.json              kind "sweep": resolved experiment, parameters, design, SALib
                               problem, seed, sizes, chunking, versions, times, status
                               (written first)
    points.parquet             point index + parameter values
    runs/chunk-000123.parquet  one file per chunk: point, replicate, parameters, outcomes
    trajectories/chunk-...     per chunk: alignment quantiles per point and month, or the full
                               series of the first k replicates of each point
    failures.json              runs that raised (point, replicate, seed, error), if any

Every file is written under a dot-prefixed temporary name and moved into place with
`os.replace`; a chunk counts as done when its runs file exists, so rerunning resumes. Local
workers (and the in-process executor) write their own chunks; chunks run on a Dask cluster
come back to the parent, which writes them. The folder
itself appears only with its metadata (status "running") and manifest already in it (what it
adds later is listed there as patterns, `LATER_FILES`), and its status says
"interrupted" or "failed" when a sweep stops early. One sweep at a time writes a folder: the
runner holds its lock (`sim.results.claim`) throughout.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import results, signals
from sim.errors import SimInputError
from sim.model import engine, outcomes, rng
from sim.model.engine import Trajectory
from sim.model.params import Params, compile_params
from sim.sweeps import design
from sim.sweeps.experiment import Experiment

DEFAULT_CHUNK = 2000  # runs per chunk: ~1 s of work at 120 months, far above Dask's overhead
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
CHUNK_NAME = re.compile(r"^chunk-(\d{6,})\.parquet$")


class RunFailure(Exception):
    """A run raised inside a chunk; finished chunks are kept."""


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run one chunk (small and picklable)."""

    chunk: int
    params: Params  # the scenario's compiled parameters, one shared row
    names: tuple[str, ...]
    integer: tuple[bool, ...]
    points: np.ndarray  # (p,) point indices
    values: np.ndarray  # (p, D) parameter values of those points
    replicates: int
    months: int
    seed: int
    trajectories: str
    sample: int
    scenario: str = ""
    # Per-replicate values drawn from a calibration's posterior (replicate r of every point
    # gets row r), for the names the design does not set; empty without a posterior.
    draws: dict[str, np.ndarray] = field(default_factory=dict)
    # The results directory, when the worker shares the parent's disk: the worker then writes
    # the chunk's files itself and sends back only that it did. Empty: send the tables back.
    out: str = ""


@dataclass(frozen=True)
class ChunkResult:
    """What a worker sends back: the chunk's run table and reduced trajectories, or a failure,
    or (``written``) that it wrote the chunk's files itself.
    """

    chunk: int
    runs: pd.DataFrame | None
    trajectories: pd.DataFrame | None
    failure: dict[str, Any] | None = None
    written: bool = False


@dataclass(frozen=True)
class Plan:
    """An experiment's points cut into chunks of whole points."""

    experiment: Experiment
    params: Params
    values: np.ndarray
    points_per_chunk: int
    draws: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def chunks(self) -> int:
        """Number of chunks."""
        return -(-len(self.values) // self.points_per_chunk)

    @property
    def runs(self) -> int:
        """Number of runs (points x replicates)."""
        return len(self.values) * self.experiment.replicates

    def chunk_runs(self, chunk: int) -> int:
        """Number of runs in one chunk."""
        start = chunk * self.points_per_chunk
        return (min(start + self.points_per_chunk, len(self.values)) - start) * (
            self.experiment.replicates
        )

    def task(self, chunk: int, out: str | Path = "") -> ChunkTask:
        """The task of one chunk; with ``out``, the worker writes the chunk into that folder."""
        exp = self.experiment
        start = chunk * self.points_per_chunk
        stop = min(start + self.points_per_chunk, len(self.values))
        return ChunkTask(
            chunk=chunk,
            params=self.params,
            names=exp.names,
            integer=tuple(p.integer for p in exp.parameters),
            points=np.arange(start, stop, dtype=np.int64),
            values=self.values[start:stop],
            replicates=exp.replicates,
            months=exp.months,
            seed=exp.seed,
            trajectories=exp.trajectories,
            sample=exp.sample,
            scenario=exp.scenario.name,
            draws=self.draws,
            out=str(out),
        )


def make_plan(exp: Experiment, chunk_size: int = DEFAULT_CHUNK, posterior: Any = None) -> Plan:
    """Sample the design and cut it into chunks of about ``chunk_size`` runs (whole points).

    With a ``posterior`` (anything with ``draw(replicates, seed)``), replicate r of every point
    runs with the r-th parameter set drawn from it (the design's names keep the design's values).
    """
    if chunk_size < 1:
        raise SimInputError("must be at least 1", field="--chunk-size", found=chunk_size)
    draws = {} if posterior is None else posterior.draw(exp.replicates, exp.seed)
    return Plan(
        experiment=exp,
        params=compile_params(exp.scenario),
        values=design.sample(exp),
        points_per_chunk=max(1, chunk_size // exp.replicates),
        draws={n: v for n, v in draws.items() if n not in exp.names},
    )


# --------------------------------------------------------------------------------------------
# The kernel of a chunk (runs in workers; pure apart from the clock-free numpy work)


def chunk_params(task: ChunkTask) -> tuple[Params, np.ndarray, np.ndarray]:
    """Per-row params, point indices and replicate indices of a chunk's runs."""
    r = task.replicates
    point = np.repeat(task.points, r)
    rep = np.tile(np.arange(r, dtype=np.int64), len(task.points))
    rows = np.repeat(task.values, r, axis=0)
    assigned = {
        name: rows[:, k].astype(np.int64) if integer else rows[:, k]
        for k, (name, integer) in enumerate(zip(task.names, task.integer, strict=True))
    }
    assigned.update({name: values[rep] for name, values in task.draws.items()})
    return task.params.assign(assigned), point, rep


def simulate_rows(
    params: Params, seed: int, point: np.ndarray, rep: np.ndarray, months: int
) -> Trajectory:
    """Run the rows (one per run) through the array engine."""
    return engine.simulate(params, rng.run_keys(seed, point, rep), months)


def run_table(task: ChunkTask, params: Params, traj: Trajectory, point, rep) -> pd.DataFrame:
    """The chunk's run table: point, replicate, swept parameter values, scalar outcomes."""
    table = outcomes.run_table(traj, params, rep)
    front: dict[str, Any] = {
        "scenario": np.full(len(point), task.scenario, dtype=object),
        "seed": np.full(len(point), task.seed, dtype=np.int64),
        "point": point,
        "replicate": rep,
    }
    for k, (name, integer) in enumerate(zip(task.names, task.integer, strict=True)):
        col = np.repeat(task.values[:, k], task.replicates)
        front[name] = col.astype(np.int64) if integer else col
    head = pd.DataFrame(front)
    return pd.concat([head, table.drop(columns="replicate")], axis=1)


def reduce_trajectories(task: ChunkTask, params: Params, traj: Trajectory, point, rep):
    """Reduce a chunk's trajectories as asked: quantiles per point and month, or a sample."""
    if task.trajectories == "quantiles":
        series = traj.pair_series(*params.pair).astype(np.float64)
        p, t1 = len(task.points), series.shape[1]
        q = np.quantile(series.reshape(p, task.replicates, t1), QUANTILES, axis=1)
        data: dict[str, Any] = {
            "point": np.repeat(task.points, t1),
            "month": np.tile(np.arange(t1, dtype=np.int64), p),
        }
        for level, values in zip(QUANTILES, q, strict=True):
            data[f"q{round(level * 100):02d}"] = values.reshape(-1)
        return pd.DataFrame(data)
    if task.trajectories == "sample":
        keep = rep < task.sample
        sub = traj.subset(keep)
        table = outcomes.series_table(sub, params.take(np.flatnonzero(keep)), rep[keep])
        table.insert(0, "point", np.repeat(point[keep], traj.alignment.shape[1]))
        return table
    return None


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run one chunk; on an error, find the first failing run and report it.

    With ``task.out`` the chunk's files are written here, in the worker (an error writing
    them is not a failing run: it reaches the parent as the exception it is).
    """
    try:
        params, point, rep = chunk_params(task)
        traj = simulate_rows(params, task.seed, point, rep, task.months)
        runs = run_table(task, params, traj, point, rep)
        res = ChunkResult(task.chunk, runs, reduce_trajectories(task, params, traj, point, rep))
    except Exception as exc:  # noqa: BLE001 - reported with the run that raised
        return ChunkResult(task.chunk, None, None, failure=_locate_failure(task, exc))
    if not task.out:
        return res
    write_chunk(Path(task.out), res, outcomes.declared(params))
    return ChunkResult(task.chunk, None, None, written=True)


def _locate_failure(task: ChunkTask, exc: Exception) -> dict[str, Any]:
    """Rerun the chunk's runs one by one to name the first that raises."""
    record = {
        "chunk": task.chunk,
        "point": None,
        "replicate": None,
        "seed": task.seed,
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(),
    }
    try:
        params, point, rep = chunk_params(task)
    except Exception:  # noqa: BLE001 - the parameters themselves failed
        return record
    for i in range(len(point)):
        rows = np.array([i])
        try:
            one = params.take(rows)
            traj = simulate_rows(one, task.seed, point[rows], rep[rows], task.months)
            outcomes.run_table(traj, one, rep[rows])
        except Exception as inner:  # noqa: BLE001
            record.update(
                point=int(point[i]),
                replicate=int(rep[i]),
                error=f"{type(inner).__name__}: {inner}",
                traceback=traceback.format_exc(),
            )
            break
    return record


# --------------------------------------------------------------------------------------------
# Executors: all yield ChunkResults as they finish, with a bounded number in flight


def execute(
    tasks: Iterable[ChunkTask], workers: int = 1, scheduler: str | None = None
) -> Iterator[ChunkResult]:
    """Run tasks in-process (1 worker), in local processes, or on a Dask cluster."""
    if scheduler:
        yield from _dask(tasks, scheduler)
    elif workers <= 1:
        for task in tasks:
            yield run_chunk(task)
    else:
        ctx = multiprocessing.get_context("forkserver")
        # Workers die with their parent (even a SIGKILLed one) and leave Ctrl-C to it.
        pool = ProcessPoolExecutor(
            workers, ctx, initializer=signals.die_with_parent, initargs=(os.getpid(),)
        )
        try:
            yield from windowed(pool, tasks, 2 * workers)
        except BaseException:
            # Interrupted or failed: stop the workers now rather than wait for their chunks.
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _dask(tasks: Iterable[ChunkTask], address: str) -> Iterator[ChunkResult]:
    try:
        from distributed import Client
    except ImportError:
        raise SimInputError(
            "--scheduler needs dask.distributed (pip install 'sim[sweep]')", field="--scheduler"
        ) from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise SimInputError(
            f"cannot reach the Dask scheduler: {exc}", field="--scheduler", found=address
        ) from None
    with client:
        n = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
        yield from windowed(client.get_executor(pure=False), tasks, 2 * n)


def windowed(executor: Executor, tasks: Iterable[ChunkTask], window: int) -> Iterator[ChunkResult]:
    """Submit tasks keeping at most ``window`` in flight; yield results as they complete."""
    pending: set[Future] = set()
    todo = iter(tasks)
    try:
        while True:
            for task in todo:
                pending.add(executor.submit(run_chunk, task))
                if len(pending) >= window:
                    break
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield fut.result()
    finally:
        for fut in pending:
            fut.cancel()


# --------------------------------------------------------------------------------------------
# The results store


def chunk_name(chunk: int) -> str:
    """File name of a chunk."""
    return f"chunk-{chunk:06d}.parquet"


def done_chunks(out: Path) -> set[int]:
    """Chunks whose runs file is in place."""
    folder = Path(out) / "runs"
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for f in os.listdir(folder) if (m := CHUNK_NAME.match(f))}


def read_runs(out: str | Path) -> pd.DataFrame:
    """The run table of a sweep results directory, sorted by point and replicate."""
    df = pd.read_parquet(Path(out) / "runs")
    return df.sort_values(["point", "replicate"], ignore_index=True)


def read_trajectories(out: str | Path) -> pd.DataFrame:
    """The kept trajectories (quantiles or sample) of a sweep results directory."""
    df = pd.read_parquet(Path(out) / "trajectories")
    keys = [c for c in ("point", "replicate", "month") if c in df.columns]
    return df.sort_values(keys, ignore_index=True)


def sweep_metadata(plan: Plan, chunk_size: int, command: list[str] | None) -> dict[str, Any]:
    """The metadata record of a sweep results directory (times and status added later)."""
    exp = plan.experiment
    return {
        "format": results.FORMAT,
        "format_version": results.FORMAT_VERSION,
        "kind": "sweep",
        "command": command,
        "experiment": exp.resolved(),
        "fingerprint": exp.fingerprint(),
        "scenario_name": exp.scenario.name,
        "scenario": exp.scenario.raw,
        "parameters": [p.record() for p in exp.parameters],
        "design": exp.design,
        "problem": design.problem(exp.parameters),
        "seed": exp.seed,
        "points": len(plan.values),
        "replicates": exp.replicates,
        "months": exp.months,
        "runs": plan.runs,
        "chunk_size": chunk_size,
        "points_per_chunk": plan.points_per_chunk,
        "chunks": plan.chunks,
        "trajectories": exp.trajectories,
        "sample": exp.sample,
        "versions": results.versions(),
    }


def open_store(out: Path, exp: Experiment, chunk_size: int | None, force: bool) -> dict | None:
    """Check ``out`` for a fresh start or a resume; return the old metadata when resuming.

    Call it holding the lock (`results.claim`). A fresh start replaces what is there only if
    `results.check_target` allows it (an empty folder, or with ``force`` a results directory
    whose every file is in its manifest); a folder is resumed only if it is a sweep's.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return None
    if force:
        results.check_target(out, force=True)  # refuses a folder sim did not write
        results.remove(out)
        return None
    if not out.is_dir():
        raise SimInputError("exists and is not a directory", file=str(out))
    if not any(out.iterdir()):
        out.rmdir()  # an empty folder: the staged sweep takes its place
        return None
    if not results.is_own(out) or not (out / "metadata.json").is_file():
        raise SimInputError(
            "exists and is not a sweep results directory written by sim; choose another --out",
            file=str(out),
        )
    meta = results.read_metadata(out)
    if meta.get("kind") != "sweep" or meta.get("fingerprint") != exp.fingerprint():
        raise SimInputError(
            "results directory holds a different experiment; pass --force to start over or "
            "choose another --out",
            file=str(out),
            field="metadata.json",
            found=(meta.get("experiment") or {}).get("name", meta.get("kind")),
            allowed=exp.name,
        )
    if chunk_size is not None and chunk_size != meta.get("chunk_size"):
        raise SimInputError(
            "a resumed sweep keeps the chunk size it started with; drop --chunk-size or "
            "pass --force",
            field="--chunk-size",
            found=chunk_size,
            allowed=str(meta.get("chunk_size")),
        )
    return meta


# What a sweep adds to its folder after it was staged (`results.write_manifest`).
LATER_FILES = results.LATER_FILES


def _clear_temporaries(folder: Path) -> None:
    for f in folder.iterdir():
        if f.name.startswith("."):
            f.unlink(missing_ok=True)


def write_chunk(out: Path, res: ChunkResult, declared: tuple = ()) -> None:
    """Write a chunk: trajectories first, the runs file (the completion mark) last; every
    column carries its unit (``declared`` outcomes, parameters with their plain SQL alias).
    """
    if res.trajectories is not None:
        series = results.of_kind(declared, "series")
        units = results.column_descriptions(res.trajectories.columns, series)
        results.write_table(res.trajectories, out / "trajectories" / chunk_name(res.chunk), units)
    units = results.column_descriptions(res.runs.columns, results.of_kind(declared, "scalar"))
    results.write_table(res.runs, out / "runs" / chunk_name(res.chunk), units)


@dataclass
class Summary:
    """What a sweep did."""

    out: Path
    runs: int
    chunks: int
    skipped: int
    written: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def run_sweep(
    exp: Experiment,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    force: bool = False,
    keep_going: bool = False,
    command: list[str] | None = None,
    progress: Callable[[int, int], Any] | None = None,
    posterior: Any = None,
) -> Summary:
    """Run (or resume) a sweep into ``out``.

    ``progress(total_runs, done_runs)`` is called once and returns an ``update(n)`` callable.
    Raises `RunFailure` when a run raises (unless ``keep_going``); finished chunks are kept.
    """
    t0 = time.perf_counter()
    if workers < 1:
        raise SimInputError("must be at least 1", field="--workers", found=workers)
    out = Path(out)
    with results.claim(out):
        old = open_store(out, exp, chunk_size, force)
        size = int(old["chunk_size"]) if old else (chunk_size or DEFAULT_CHUNK)
        plan = make_plan(exp, size, posterior)
        meta = sweep_metadata(plan, size, command)
        meta["posterior"] = {"path": posterior.path, "note": posterior.note} if posterior else None
        if old and old.get("posterior") != meta["posterior"]:
            raise SimInputError(
                "a resumed sweep keeps the posterior it started with; pass --force to start over",
                field="--posterior",
                found=posterior.path if posterior else None,
            )
        meta.update(finished=None, status="running")
        if old:
            meta["started"] = old.get("started")
            meta["resumed"] = [*old.get("resumed", []), results.now()]
            results.write_json(meta, out / "metadata.json")
        else:
            # The folder appears with its metadata already in it, so a sweep killed at any
            # moment leaves either nothing or a folder that says it is sim's and resumes.
            meta["started"] = results.now()
            with results.staged(out, LATER_FILES) as tmp:
                results.write_json(meta, tmp / "metadata.json")
                declared = outcomes.declared(plan.params)
                record = {"outcomes": results.outcomes_record(declared)}
                results.write_json(record, tmp / "outcomes.json")
                results.write_table(design.points_table(exp, plan.values), tmp / "points.parquet")
        for sub in ("runs", "trajectories"):
            (out / sub).mkdir(exist_ok=True)
            _clear_temporaries(out / sub)
        summary = Summary(out, plan.runs, plan.chunks, skipped=0)
        try:
            _run_chunks(plan, out, summary, workers, scheduler, keep_going, progress)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            meta.update(finished=results.now(), status=status)
            results.write_json(meta, out / "metadata.json")
            raise
        finally:
            summary.seconds = time.perf_counter() - t0
        if not summary.failures and (out / "failures.json").exists():
            (out / "failures.json").unlink()
        complete = len(done_chunks(out) & set(range(plan.chunks))) == plan.chunks
        meta.update(finished=results.now(), status="complete" if complete else "incomplete")
        results.write_json(meta, out / "metadata.json")
    return summary


def _run_chunks(
    plan: Plan,
    out: Path,
    summary: Summary,
    workers: int,
    scheduler: str | None,
    keep_going: bool,
    progress: Callable[[int, int], Any] | None,
) -> None:
    """Run the chunks not yet done and write each as it finishes."""
    done = done_chunks(out) & set(range(plan.chunks))
    summary.skipped = len(done)
    todo = [c for c in range(plan.chunks) if c not in done]
    update = progress(plan.runs, sum(plan.chunk_runs(c) for c in done)) if progress else None
    if todo and workers > 1 and not scheduler:
        warm_up(plan)
    # Local workers share the parent's disk, so they write their chunks themselves (the
    # parent's CPU then goes to no chunk's Parquet); a Dask worker may be on another machine,
    # so its chunks come back to be written here.
    shared = "" if scheduler else out.absolute()
    stream = execute((plan.task(c, shared) for c in todo), workers, scheduler)
    declared = outcomes.declared(plan.params)
    try:
        for res in stream:
            if res.failure is not None:
                summary.failures.append(res.failure)
                _write_failures(out, summary.failures)
                if not keep_going:
                    f = res.failure
                    raise RunFailure(
                        f"run failed at point {f['point']}, replicate {f['replicate']}, "
                        f"seed {f['seed']} (chunk {f['chunk']}): {f['error']}; finished "
                        f"chunks are kept in {out}"
                    )
                continue
            if not res.written:
                write_chunk(out, res, declared)
            summary.written += 1
            if update:
                update(plan.chunk_runs(res.chunk))
    finally:
        stream.close()


def warm_up(plan: Plan) -> None:
    """Compile the kernel here (or load it from numba's disk cache), so that local workers
    load it from the cache instead of each compiling it on a first run.
    """
    keys = rng.run_keys(plan.experiment.seed, np.zeros(1, np.int64), np.zeros(1, np.int64))
    engine.simulate(plan.params, keys, 1)


def _write_failures(out: Path, failures: list[dict[str, Any]]) -> None:
    results.write_json({"failures": failures}, out / "failures.json")
