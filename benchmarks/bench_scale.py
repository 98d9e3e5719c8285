"""At scale: peak memory of `sim run`, the cost of more actors, a 1,000,000-run sweep.

    python benchmarks/bench_scale.py                      # everything (~10 minutes)
    python benchmarks/bench_scale.py --only memory        # `sim run` at 10k/100k/200k
    python benchmarks/bench_scale.py --only actors        # 4/8/16 actors
    python benchmarks/bench_scale.py --only sweep         # 1,000,000 runs, --workers 2
    python benchmarks/bench_scale.py --only parent        # a chunk's cost to the parent
    python benchmarks/bench_scale.py --compare DIR        # also run another source tree
                                                          # (e.g. a checkout of an older
                                                          # commit) for memory and sweep

Figures printed (docs/kernel.md, "Scale"):

- memory: peak resident memory of `sim run` (baseline, 120 months, figures on) at 10,000,
  100,000 and 200,000 replicates, as the largest VmHWM over the process tree (polled), with
  the bytes per replicate-month added between 100k and 200k (the figure `sim.scenario.limits`
  promises);
- actors: CPU microseconds per replicate-month (one pinned core; 1,000 replicates x 120
  months) of the engine, the bloc search (`landscape.best_configuration`, the first and last
  month of each replicate, as the run table does) and the whole run table
  (`outcomes.run_table`), for the baseline with the Gulf split into 1, 5 or 13 member states
  (4, 8, 16 actors); and the plain search (`landscape.best_configuration_reference`) on a few
  replicates for comparison;
- sweep: `sim sweep` of 1,000,000 runs x 120 months with --workers 2 (the experiment of
  bench_kernel.py): wall seconds, CPU seconds of all processes and of the parent alone, peak
  memory of the largest process;
- parent: what the sweep's parent spent per chunk when it wrote them (unpickling a 2,000-run
  chunk's result, writing its Parquet files), now done by the workers.

The machine is shared and noisy: compare figures as ratios within one run.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASELINE = ROOT / "scenarios" / "baseline.toml"
MONTHS = 120
MIB = 1 << 20

from bench_kernel import EXPERIMENT, best_cpu_seconds, pin_one_core  # noqa: E402


def watch(cmd: list[str], source: Path = ROOT, cwd: Path = ROOT) -> dict[str, float]:
    """Run ``cmd`` with ``source`` on PYTHONPATH, polling its process tree: wall seconds, the
    largest peak resident memory of any process (MiB), CPU seconds of all and of the root.
    """
    import psutil

    env = {**os.environ, "PYTHONPATH": str(source)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    peak: dict[int, float] = {}
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in tree:
            try:
                status = Path(f"/proc/{p.pid}/status").read_text()
                hwm = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM"))
                times = p.cpu_times()
            except (OSError, StopIteration, psutil.Error):
                continue
            peak[p.pid] = max(peak.get(p.pid, 0), hwm / 1024)
            cpu[p.pid] = times.user + times.system
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    if proc.wait() != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    return {
        "wall": wall,
        "peak": max(peak.values(), default=0.0),
        "cpu": sum(cpu.values()),
        "parent": cpu.get(proc.pid, 0.0),
    }


# --------------------------------------------------------------------------------------------
# Memory of `sim run`


def run_memory(replicates: int, source: Path = ROOT) -> dict[str, float]:
    """Peak memory and times of `sim run` of the baseline (figures on) in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", "run", str(BASELINE), "-n", str(replicates)]
        cmd += ["--seed", "1", "--out", str(Path(tmp) / "out")]
        return watch(cmd, source, cwd=Path(tmp))


def memory(compare: Path | None) -> None:
    sources = {"this tree": ROOT} | ({f"{compare}": compare} if compare else {})
    for label, source in sources.items():
        peaks = {}
        for reps in (10_000, 100_000, 200_000):
            m = run_memory(reps, source)
            peaks[reps] = m["peak"]
            print(
                f"memory:    sim run {reps:>7,} x {MONTHS} ({label}): peak {m['peak']:7,.0f} MiB, "
                f"{m['wall']:5.1f} s wall, {m['cpu']:5.1f} CPU s"
            )
        per = (peaks[200_000] - peaks[100_000]) * MIB / (100_000 * MONTHS)
        print(f"memory:    {per:.1f} bytes per replicate-month added from 100k to 200k ({label})")


# --------------------------------------------------------------------------------------------
# More actors


def scenario_with(actors: int):
    """The baseline with the Gulf split into ``actors - 3`` member states (copies of it with a
    share of its capability), alignment between any two pairs taken from the original pair.
    """
    from sim.scenario import loader

    raw = tomllib.loads(BASELINE.read_text())
    members = actors - 3
    gulf = raw["actors"]["gulf"]
    for k in range(2, members + 1):
        member = copy.deepcopy(gulf)
        member["label"] = f"Gulf state {k}"
        raw["actors"][f"gulf_{k}"] = member
    for k, name in enumerate(n for n in raw["actors"] if n.startswith("gulf")):
        raw["actors"][name]["capability"] = gulf["capability"] / members * (1 + 0.01 * k)
    ids = list(raw["actors"])
    alignment = raw["alignment"]

    def original(a: str) -> str:
        return "gulf" if a.startswith("gulf") else a

    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if b in alignment.get(a, {}) or a in alignment.get(b, {}):
                continue
            oa, ob = original(a), original(b)
            value = alignment.get(oa, {}).get(ob, alignment.get(ob, {}).get(oa, 0.5))
            alignment.setdefault(a, {})[b] = value
    return loader.from_dict(raw, f"<baseline, {actors} actors>")


def actor_costs(actors: int, replicates: int = 1000, plain: int = 20) -> dict[str, float]:
    """CPU microseconds per replicate-month of the engine, bloc search, run table, plain
    search (on ``plain`` replicates) with ``actors`` actors.
    """
    from sim.model import engine, landscape, outcomes, rng
    from sim.model.params import compile_params

    params = compile_params(scenario_with(actors))
    keys = rng.run_keys(0, np.zeros(replicates, np.int64), np.arange(replicates))
    reps = np.arange(replicates)
    traj = engine.simulate(params, keys, MONTHS)
    n = len(params.actors)
    sizes = np.broadcast_to(params.cap, (replicates, n))
    first = outcomes._full_alignment(traj, n, 0)
    last = outcomes._full_alignment(traj, n, -1)

    def search(fn, k=replicates):
        fn(sizes[:k], first[:k])
        fn(sizes[:k], last[:k])

    search(landscape.best_configuration, 2)  # compile or load first
    per = 1e6 / (replicates * MONTHS)
    return {
        "engine": per * best_cpu_seconds(lambda: engine.simulate(params, keys, MONTHS), 3),
        "bloc search": per * best_cpu_seconds(lambda: search(landscape.best_configuration), 3),
        "run table": per * best_cpu_seconds(lambda: outcomes.run_table(traj, params, reps), 3),
        "plain search": 1e6
        / (plain * MONTHS)
        * best_cpu_seconds(lambda: search(landscape.best_configuration_reference, plain), 1),
    }


def actors() -> None:
    pin_one_core()
    for n in (4, 8, 16):
        c = actor_costs(n)
        print(
            f"actors:    {n:2d}: engine {c['engine']:6.2f} us, bloc search "
            f"{c['bloc search']:6.2f} us, run table {c['run table']:6.2f} us per replicate-month "
            f"(run table / engine {c['run table'] / c['engine']:.2f}x; plain search "
            f"{c['plain search']:8.2f} us, {c['plain search'] / c['engine']:.1f}x the engine)"
        )


# --------------------------------------------------------------------------------------------
# The sweep


def sweep(compare: Path | None, points: int = 10_000, workers: int = 2) -> None:
    sources = {"this tree": ROOT} | ({f"{compare}": compare} if compare else {})
    for label, source in sources.items():
        with tempfile.TemporaryDirectory() as tmp:
            exp = Path(tmp) / "bench.toml"
            exp.write_text(
                EXPERIMENT.format(scenario=BASELINE, replicates=100, months=MONTHS, points=points)
            )
            cmd = [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(Path(tmp) / "o")]
            m = watch([*cmd, "--workers", str(workers)], source, cwd=Path(tmp))
        print(
            f"sweep:     {points * 100:,} runs x {MONTHS} months, --workers {workers} ({label}): "
            f"{m['wall']:5.1f} s wall, {m['cpu']:5.1f} CPU s (parent {m['parent']:4.1f} s, "
            f"{100 * m['parent'] / m['cpu']:.0f}%), peak {m['peak']:,.0f} MiB"
        )
    print("targets:   1,000,000 runs < 30 s wall, < 50 CPU s")


def parent_cost(repeats: int = 5) -> None:
    """CPU the parent spent per chunk before local workers wrote their own: unpickling a
    2,000-run chunk's result and writing its two Parquet files (one pinned core).
    """
    import pickle

    from sim.sweeps import experiment, runner

    pin_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(
            EXPERIMENT.format(scenario=BASELINE, replicates=100, months=MONTHS, points=20)
        )
        plan = runner.make_plan(experiment.load_experiment(path), runner.DEFAULT_CHUNK)
        res = runner.run_chunk(plan.task(0))
        out = Path(tmp) / "out"
        for sub in ("runs", "trajectories"):
            (out / sub).mkdir(parents=True)
        blob = pickle.dumps(res)
        unpickle = best_cpu_seconds(lambda: pickle.loads(blob), repeats)
        write = best_cpu_seconds(lambda: runner.write_chunk(out, res), repeats)
    done = len(pickle.dumps(runner.ChunkResult(0, None, None, written=True)))
    print(
        f"parent:    per 2,000-run chunk: a result of {len(blob):,} bytes, unpickled in "
        f"{unpickle * 1e3:.1f} ms, written in {write * 1e3:.1f} ms (now {done} bytes back); "
        f"x 500 chunks = {500 * (unpickle + write):.1f} CPU s moved off the parent"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("memory", "actors", "sweep", "parent"))
    parser.add_argument("--compare", type=Path, help="another source tree to measure beside")
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    if args.only in (None, "memory"):
        memory(args.compare)
    if args.only in (None, "sweep"):
        sweep(args.compare)
    if args.only in (None, "parent"):
        parent_cost()
    if args.only in (None, "actors"):
        actors()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
