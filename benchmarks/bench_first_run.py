"""The first run after an install: `sim run` from an empty numba cache, then later commands.

    python benchmarks/bench_first_run.py

Runs, each a fresh process with ``NUMBA_CACHE_DIR`` pointed at one new temporary directory
(so the first finds an empty cache, as after an install):

1. ``sim run`` (baseline, 1,000 replicates, no figures): compiles the kernel, once;
2. the same ``sim run`` again: loads it from the cache;
3. a Mesa model's first steps and an explanation (``explain.account``) in a new process:
   loads it from the cache too.

Printed per command: wall seconds, CPU seconds (user + system of the child), whether it said
it was compiling (the one line on stderr), and what numba's cache did (``NUMBA_DEBUG_CACHE``:
code saved = compiled, loaded = from the cache). Wall time depends on the other load of a
shared machine; CPU seconds less so.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LATER = """
from sim import explain, replay
from sim.model.mesa_model import AllianceModel
m = AllianceModel(seed=3, months=2)
m.step()
m.step()
rp = replay.from_scenario("scenarios/baseline.toml", seed=3, months=4)
explain.account(rp, 0, 2, "russia")
"""


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, object]:
    """Wall and CPU seconds of a child process, and what it said about compiling."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = out.stdout + out.stderr
    return {
        "wall": wall,
        "cpu": cpu,
        "announced": "compiling the model's kernel" in out.stderr,
        "saved": text.count("data saved"),
        "loaded": text.count("data loaded"),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NUMBA_CACHE_DIR": str(Path(tmp) / "numba"),
            "NUMBA_DEBUG_CACHE": "1",
        }
        run = [sys.executable, "-m", "sim", "run", "-n", "1000", "--no-figures", "--force"]
        rows = {
            "first sim run (empty cache)": timed([*run, "--out", f"{tmp}/a"], env),
            "second sim run": timed([*run, "--out", f"{tmp}/b"], env),
            "Mesa steps + explain, new process": timed([sys.executable, "-c", LATER], env),
        }
    print(f"{'command':<36} {'wall s':>8} {'CPU s':>8}  announced  numba cache")
    for name, r in rows.items():
        cache = f"{r['saved']} saved, {r['loaded']} loaded"
        print(f"{name:<36} {r['wall']:8.1f} {r['cpu']:8.1f}  {r['announced']!s:<9}  {cache}")


if __name__ == "__main__":
    main()
