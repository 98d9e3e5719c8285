"""The compiled kernel: speed beside the numpy rules, Mesa's batch_run and a large sweep; its
compilation cost; how often it picks another action than the numpy rules.

    python benchmarks/bench_kernel.py                # everything (the sweep takes ~1 minute)
    python benchmarks/bench_kernel.py --skip-sweep   # engine, Mesa, compile, CLI start
    python benchmarks/bench_kernel.py --agreement    # kernel vs numpy over 10^6 replicate-months
    python benchmarks/bench_kernel.py --profile      # where a sweep chunk's time goes

All speeds are measured in this one run, side by side, on one core (the process is pinned to
one CPU; rates use the process's CPU time, so other load on a shared machine inflates them
less than wall time would). Figures printed:

- engine: replicate-months per second of the kernel and of the numpy reference
  (`engine.simulate_numpy`), baseline scenario, 2,000 replicates x 120 months, engine alone and
  with the run table (`outcomes.run_table`), and their ratio (target >= 5x);
- mesa.batch_run of the same model (`AllianceModel`, number_processes=1) and the ratio of the
  kernel to it (target >= 500x);
- compile: first use of the kernel in a process with an empty cache (compiles), in a second
  process (loads the cache), and the simulation part of a small `sim run` (1,000 replicates)
  as a whole process, kernel versus the numpy engine;
- sweep: `sim sweep` of 1,000,000 runs x 120 months with --workers 2: wall time and peak
  memory (target < 30 s, < 1 GiB), and a 100,000-run sweep to show memory is flat in the runs;
- agreement (``--agreement``): runs and decisions in which the kernel and the numpy rules
  choose differently, over 8,334 replicates x 120 months of every shipped scenario;
- profile (``--profile``): where a sweep chunk's time goes (2,000 runs x 120 months: per-row
  parameters, engine, run table, trajectory quantiles, Parquet writes), CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASELINE = ROOT / "scenarios" / "baseline.toml"
MONTHS = 120


def pin_one_core() -> None:
    """Run this process (and its BLAS threads) on one CPU."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def best_cpu_seconds(fn, repeats: int) -> float:
    """The least CPU time of ``repeats`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def engine_rates(replicates: int = 2000, repeats: int = 5) -> dict[str, float]:
    """Replicate-months per CPU second: kernel and numpy, engine alone and with outcomes."""
    from sim import scenario
    from sim.model import engine, outcomes, rng
    from sim.model.params import compile_params

    params = compile_params(scenario.load(BASELINE))
    keys = rng.run_keys(0, np.zeros(replicates, np.int64), np.arange(replicates))
    reps = np.arange(replicates)
    engine.simulate(params, keys[:2], 2)  # compile or load the kernel first
    engine.simulate_numpy(params, keys[:2], 2)
    work = replicates * MONTHS
    out = {}
    for name, sim in (("kernel", engine.simulate), ("numpy", engine.simulate_numpy)):
        out[name] = work / best_cpu_seconds(lambda sim=sim: sim(params, keys, MONTHS), repeats)
        out[f"{name}+outcomes"] = work / best_cpu_seconds(
            lambda sim=sim: outcomes.run_table(sim(params, keys, MONTHS), params, reps), repeats
        )
    return out


def mesa_rate(runs: int) -> float:
    """Replicate-months per CPU second of the Mesa model under mesa.batch_run (1 process)."""
    import mesa

    from sim.model import AllianceModel

    AllianceModel(scenario=str(BASELINE), seed=0).step()  # compile or load the kernel first
    t0 = time.process_time()
    out = mesa.batch_run(
        AllianceModel,
        parameters={"scenario": str(BASELINE), "seed": 0, "replicate": range(runs)},
        number_processes=1,
        iterations=1,
        data_collection_period=-1,
        max_steps=MONTHS,
        display_progress=False,
    )
    elapsed = time.process_time() - t0
    assert len({row["RunId"] for row in out}) == runs
    return runs * MONTHS / elapsed


FIRST_USE = """
import time
t0 = time.perf_counter()
import numpy as np
from sim import scenario
from sim.model import engine, rng
from sim.model.params import compile_params
params = compile_params(scenario.load({baseline!r}))
t1 = time.perf_counter()
engine.simulate(params, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)), 2)
t2 = time.perf_counter()
from sim.model import AllianceModel
AllianceModel(scenario={baseline!r}, seed=0).step()
t3 = time.perf_counter()
print(t2 - t1, t3 - t2)
"""

SMALL_RUN = """
import time
t0 = time.perf_counter()
from sim import api
from sim.model import engine
if {numpy}:
    engine.simulate = engine.simulate_numpy
api.simulate({baseline!r}, replicates=1000, seed=7)
print(time.perf_counter() - t0)
"""


def python(script: str, env: dict[str, str] | None = None) -> list[float]:
    """Run a script in a fresh interpreter; the numbers it prints."""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(x) for x in out.stdout.split()]


def compile_costs() -> dict[str, float]:
    """Seconds of the first kernel call (engine) and first Mesa step, cold and cached."""
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        cold = python(FIRST_USE.format(baseline=str(BASELINE)), env)
        warm = python(FIRST_USE.format(baseline=str(BASELINE)), env)
    return {
        "engine cold": cold[0],
        "mesa cold": cold[1],
        "engine cached": warm[0],
        "mesa cached": warm[1],
    }


def small_run(repeats: int = 5) -> dict[str, float]:
    """Wall seconds of a whole process that imports the API and simulates 1,000 replicates x
    120 months (the simulation part of `sim run`), kernel (cache warm) versus numpy engine;
    the least of ``repeats``, alternating.
    """
    times: dict[str, list[float]] = {"kernel": [], "numpy": []}
    for _ in range(repeats):
        for name in times:
            script = SMALL_RUN.format(baseline=str(BASELINE), numpy=name == "numpy")
            times[name] += python(script)
    return {k: min(v) for k, v in times.items()}


EXPERIMENT = """
[experiment]
name = "bench_sweep"
scenario = "{scenario}"
seed = 1
replicates = {replicates}
months = {months}
[design]
method = "lhs"
points = {points}
[parameters]
"events.western_offer.hazard" = {{ low = 0.005, high = 0.08 }}
"actors.russia.salience.ukraine" = {{ low = 0.4, high = 1.0 }}
"actors.iran.memory" = {{ low = 0.95, high = 0.999 }}
"deals.syria_for_ukraine.trust_shock" = {{ low = 2.0, high = 12.0 }}
[output]
trajectories = "quantiles"
"""


def sweep(points: int, replicates: int, workers: int) -> tuple[float, float, float]:
    """Wall seconds, peak memory (MiB, largest process) and CPU seconds (all processes) of
    `sim sweep` in a subprocess.
    """
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.toml"
        exp.write_text(
            EXPERIMENT.format(
                scenario=BASELINE, replicates=replicates, months=MONTHS, points=points
            )
        )
        cmd = [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(Path(tmp) / "out")]
        cmd += ["--workers", str(workers)]
        return _watch(cmd)


def _watch(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``, polling its process tree (workers included): wall seconds, the largest
    peak resident memory of any process (MiB) and CPU seconds of all (`bench_scale.watch`).
    """
    from bench_scale import watch

    m = watch(cmd)
    return m["wall"], m["peak"], m["cpu"]


def agreement(replicates: int = 8334) -> None:
    """Kernel versus numpy rules: runs whose actions differ, and where they first differ."""
    from sim import scenario
    from sim.model import engine, rng
    from sim.model.params import compile_params

    keys = rng.run_keys(2024, np.zeros(replicates, np.int64), np.arange(replicates))
    print(f"agreement: {replicates:,} replicates x {MONTHS} months per scenario")
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        params = compile_params(scenario.load(path))
        got = engine.simulate(params, keys, MONTHS)
        want = engine.simulate_numpy(params, keys, MONTHS)
        differ = (got.actions != want.actions).any(axis=(1, 2))
        before = ~np.logical_or.accumulate((got.actions != want.actions).any(axis=2), axis=1)
        same_path = np.concatenate([np.ones((replicates, 1), bool), before[:, :-1]], axis=1)
        decisions = int(same_path.sum()) * len(params.actors)
        gap = np.abs(got.alignment.astype(np.float64) - want.alignment)[~differ]
        print(
            f"  {path.stem:22s} runs with another action: {int(differ.sum())} of {replicates:,}; "
            f"decisions compared: {decisions:,}; largest alignment gap elsewhere: "
            f"{gap.max() if gap.size else 0.0:.1e}"
        )


def profile(repeats: int = 3) -> None:
    """CPU seconds of each stage of one sweep chunk (the least of ``repeats``)."""
    from sim.sweeps import experiment, runner

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(
            EXPERIMENT.format(scenario=BASELINE, replicates=100, months=MONTHS, points=20)
        )
        plan = runner.make_plan(experiment.load_experiment(path), runner.DEFAULT_CHUNK)
        task = plan.task(0)
        runner.run_chunk(task)  # compile or load the kernel first
        out = Path(tmp) / "out"
        for sub in ("runs", "trajectories"):
            (out / sub).mkdir(parents=True)
        best: dict[str, float] = {}
        for _ in range(repeats):
            t = [time.process_time()]
            params, point, rep = runner.chunk_params(task)
            t.append(time.process_time())
            traj = runner.simulate_rows(params, task.seed, point, rep, task.months)
            t.append(time.process_time())
            runs = runner.run_table(task, params, traj, point, rep)
            t.append(time.process_time())
            kept = runner.reduce_trajectories(task, params, traj, point, rep)
            t.append(time.process_time())
            runner.write_chunk(out, runner.ChunkResult(0, runs, kept))
            t.append(time.process_time())
            stages = ("parameters", "engine", "run table", "quantiles", "parquet")
            for name, a, b in zip(stages, t[:-1], t[1:], strict=True):
                best[name] = min(best.get(name, float("inf")), b - a)
    total = sum(best.values())
    print(f"profile:   one sweep chunk, {plan.chunk_runs(0):,} runs x {MONTHS} months")
    for name, seconds in best.items():
        print(f"  {name:11s} {seconds * 1000:7.1f} ms  {100 * seconds / total:5.1f}%")
    print(f"  {'total':11s} {total * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--only-sweep", action="store_true")
    parser.add_argument("--agreement", action="store_true", help="only the agreement check")
    parser.add_argument("--profile", action="store_true", help="only a sweep chunk's profile")
    parser.add_argument("--mesa-runs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.agreement or args.profile:
        pin_one_core()
        agreement() if args.agreement else profile()
        return

    if args.only_sweep:
        return sweeps(args.workers)
    costs = compile_costs()
    print(
        f"compile:   first kernel use, empty cache {costs['engine cold']:.1f} s (engine) + "
        f"{costs['mesa cold']:.1f} s (Mesa's entry points); cached: "
        f"{costs['engine cached']:.2f} s + {costs['mesa cached']:.2f} s"
    )
    small = small_run()
    print(
        f"small run: import + 1,000 replicates x {MONTHS} months as a whole process: "
        f"kernel {small['kernel']:.2f} s, numpy engine {small['numpy']:.2f} s"
    )

    pin_one_core()
    rates = engine_rates()
    for name in ("numpy", "kernel", "numpy+outcomes", "kernel+outcomes"):
        print(f"engine:    {name:16s} {rates[name]:12,.0f} replicate-months/s (one core)")
    print(
        f"ratio:     kernel / numpy {rates['kernel'] / rates['numpy']:.1f}x engine alone, "
        f"{rates['kernel+outcomes'] / rates['numpy+outcomes']:.1f}x with outcomes "
        "(target >= 5x)"
    )
    mesa = mesa_rate(args.mesa_runs)
    print(f"mesa:      batch_run {mesa:12,.0f} replicate-months/s ({args.mesa_runs} runs)")
    print(
        f"ratio:     kernel / mesa.batch_run {rates['kernel+outcomes'] / mesa:,.0f}x with "
        f"outcomes, {rates['kernel'] / mesa:,.0f}x engine alone (target >= 500x)"
    )
    if not args.skip_sweep:
        sweeps(args.workers)


def sweeps(workers: int) -> None:
    """The 100,000- and 1,000,000-run sweeps."""
    for points in (1_000, 10_000):
        wall, peak, cpu = sweep(points, 100, workers)
        runs = points * 100
        print(
            f"sweep:     {runs:>9,} runs x {MONTHS} months, --workers {workers}: "
            f"{wall:6.1f} s wall, {cpu:6.1f} CPU s in all processes, "
            f"peak RSS {peak:,.0f} MiB (largest process)"
        )
    print("targets:   1,000,000 runs < 30 s wall; peak memory < 1024 MiB, flat in the runs")
    print(f"cpus:      {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
