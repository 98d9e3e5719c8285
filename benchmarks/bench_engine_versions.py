"""The array engine of this checkout against an earlier version, measured in one run.

    python benchmarks/bench_engine_versions.py [--ref 6c9379b] [--replicates 2000] [--rounds 3]

Checks the earlier version out into a temporary git worktree and times both engines (the
baseline scenario, 120 months, outcomes included, one process each) in alternating rounds, so
both see the same machine load. Prints replicate-months per second of each (median of the
rounds) and their ratio. The default reference is the last commit before model v2.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import time, numpy as np
from sim import scenario
from sim.model import engine, outcomes, rng
from sim.model.params import compile_params
params = compile_params(scenario.load("{baseline}"))
r = {replicates}
keys = rng.run_keys(0, np.zeros(r, dtype=np.int64), np.arange(r))
engine.simulate(params, keys[:10], 120)
t0 = time.perf_counter()
traj = engine.simulate(params, keys, 120)
outcomes.run_table(traj, params, np.arange(r))
print(r * 120 / (time.perf_counter() - t0))
"""


def rate(checkout: Path, replicates: int) -> float:
    """Replicate-months per second of the engine in ``checkout`` (a fresh process)."""
    code = PROBE.format(baseline=checkout / "scenarios" / "baseline.toml", replicates=replicates)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="6c9379b", help="earlier commit to compare with")
    ap.add_argument("--replicates", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(old), args.ref], cwd=ROOT, check=True
        )
        try:
            now, before = [], []
            for _ in range(args.rounds):
                before.append(rate(old, args.replicates))
                now.append(rate(ROOT, args.replicates))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT)
    a, b = statistics.median(now), statistics.median(before)
    print(f"engine at {args.ref}: {b:,.0f} replicate-months/s (median of {args.rounds})")
    print(f"engine now:        {a:,.0f} replicate-months/s (median of {args.rounds})")
    print(f"now / before: {a / b:.2f} (slowdown {b / a:.2f}x)")


if __name__ == "__main__":
    main()
