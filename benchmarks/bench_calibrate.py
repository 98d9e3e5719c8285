"""Calibration speed: the batch sampler against pyabc's multicore sampler, and a whole
baseline calibration as `sim calibrate` runs it.

    python benchmarks/bench_calibrate.py                 # both parts
    python benchmarks/bench_calibrate.py --skip-full     # only the sampler comparison

Part 1 runs the same small ABC-SMC problem (the baseline's five screened parameters plus the
three measurement parameters, 2016-2019 sessions) with both samplers and reports simulations
per CPU-second and per wall-second; ratios within one run are what to quote (the machine is
shared). Part 2 times `sim calibrate scenarios/baseline.toml --until 2019` with its defaults
(screening, 400 particles, up to 8 generations) in a subprocess.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
NAMES = [
    "dynamics.action",
    "actors.iran.actions.go_it_alone.stance.gulf",
    "events.unsc_crisis.hazard",
    "dynamics.evidence",
    "trust.default.unfavourable",
]


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def sampler_comparison(population: int, generations: int) -> None:
    import logging

    import pyabc  # noqa: F401

    from sim.scenario import load
    from sim.scenario.evidence import evidence_ranges
    from sim.validation.calibration import calibration, problem

    logging.getLogger("ABC").setLevel(logging.WARNING)
    sc = load(BASELINE)
    pb = problem.build(sc, str(BASELINE), NAMES, evidence_ranges(BASELINE), 2019, 1)
    rows = []
    for sampler in ("batch", "multicore"):
        settings = calibration.Settings(
            population=population, generations=generations, sampler=sampler, workers=2
        )
        with tempfile.TemporaryDirectory() as tmp:
            c0, w0 = cpu(), time.perf_counter()
            cal = calibration.calibrate(pb, settings, Path(tmp) / "h.db")
            wall, used = time.perf_counter() - w0, cpu() - c0
        sims = int(cal.diagnostics.evaluations.sum()) + population  # + the prior sample
        rows.append((sampler, sims, wall, used))
        print(
            f"{sampler:>9}: {sims} evaluations, {wall:.1f} s wall, {used:.1f} CPU-s "
            f"-> {sims / wall:.0f}/wall-s, {sims / used:.0f}/CPU-s",
            flush=True,
        )
    (_, sb, wb, cb), (_, sm, wm, cm) = rows
    print(
        f"batch vs multicore: {(sb / wb) / (sm / wm):.1f}x evaluations per wall-second, "
        f"{(sb / cb) / (sm / cm):.1f}x per CPU-second"
    )


def full() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "sim",
            "calibrate",
            str(BASELINE),
            "--until",
            "2019",
            "--out",
            str(Path(tmp) / "cal"),
        ]
        c0, w0 = cpu(), time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall, used = time.perf_counter() - w0, cpu() - c0
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    print(done.stdout.splitlines()[0])
    print(
        f"sim calibrate scenarios/baseline.toml --until 2019: {wall:.0f} s wall "
        f"({wall / 60:.1f} min), {used:.0f} CPU-s; budget 15 min"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=200)
    ap.add_argument("--generations", type=int, default=2)
    ap.add_argument("--skip-full", action="store_true")
    args = ap.parse_args()
    sampler_comparison(args.population, args.generations)
    if not args.skip_full:
        full()


if __name__ == "__main__":
    main()
