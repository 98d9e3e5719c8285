"""Engine speed versus Mesa's batch_run, and a large sweep's wall time and peak memory.

    python benchmarks/bench_engine.py            # full: 1,000,000 runs x 120 months, 2 workers
    python benchmarks/bench_engine.py --quick    # smaller: 20,000 runs x 120 months

Figures printed: replicate-steps per second of the array engine (one process, baseline
scenario, the same outcomes as `sim run`), of the Mesa model under `mesa.batch_run`
(number_processes=1), their ratio; then `sim sweep` of a generated experiment (10,000 points x
100 replicates in full) with its wall time and the peak resident memory of the largest process.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
MONTHS = 120


def engine_rate(replicates: int) -> float:
    """Replicate-steps per second of the array engine plus outcomes, one process."""
    from sim import scenario
    from sim.model import engine, outcomes, rng
    from sim.model.params import compile_params

    params = compile_params(scenario.load(BASELINE))
    keys = rng.run_keys(0, np.zeros(replicates, dtype=np.int64), np.arange(replicates))
    engine.simulate(params, keys[:10], MONTHS)  # warm-up
    t0 = time.perf_counter()
    traj = engine.simulate(params, keys, MONTHS)
    outcomes.run_table(traj, params, np.arange(replicates))
    return replicates * MONTHS / (time.perf_counter() - t0)


def mesa_rate(runs: int) -> float:
    """Replicate-steps per second of the Mesa model under mesa.batch_run (one process)."""
    import mesa

    from sim.model import AllianceModel

    t0 = time.perf_counter()
    out = mesa.batch_run(
        AllianceModel,
        parameters={"scenario": str(BASELINE), "seed": 0, "replicate": range(runs)},
        number_processes=1,
        iterations=1,
        data_collection_period=-1,
        max_steps=MONTHS,
        display_progress=False,
    )
    elapsed = time.perf_counter() - t0
    assert len({row["RunId"] for row in out}) == runs
    return runs * MONTHS / elapsed


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


def big_sweep(points: int, replicates: int, workers: int) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, largest process) of `sim sweep` in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.toml"
        exp.write_text(
            EXPERIMENT.format(
                scenario=BASELINE, replicates=replicates, months=MONTHS, points=points
            )
        )
        cmd = [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(Path(tmp) / "out")]
        cmd += ["--workers", str(workers)]
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return wall, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sweep (20,000 runs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mesa-runs", type=int, default=200)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()

    eng = engine_rate(2000)
    print(f"engine:          {eng:12,.0f} replicate-steps/s (2,000 replicates x {MONTHS} months)")
    mes = mesa_rate(args.mesa_runs)
    print(f"mesa.batch_run:  {mes:12,.0f} replicate-steps/s ({args.mesa_runs} runs, 1 process)")
    print(f"ratio:           {eng / mes:12,.0f} x   (target >= 100 x)")
    if args.skip_sweep:
        return
    points, reps = (200, 100) if args.quick else (10_000, 100)
    wall, peak = big_sweep(points, reps, args.workers)
    runs = points * reps
    print(
        f"sweep:           {runs:,} runs x {MONTHS} months, {args.workers} workers: "
        f"{wall:,.1f} s wall ({runs * MONTHS / wall:,.0f} replicate-steps/s), "
        f"peak RSS {peak:,.0f} MiB (largest process)"
    )
    print("targets:         1,000,000 runs x 120 months < 120 s; peak memory < 1024 MiB")
    print(f"cpus:            {os.cpu_count()}")


if __name__ == "__main__":
    main()
