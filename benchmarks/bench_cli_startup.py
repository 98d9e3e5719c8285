"""Whole-process time of `sim --help` and `sim run --help` (target: well under 1 s).

Building the parser must not import pandas, scipy or matplotlib: each command imports what it
needs inside the function that runs it. Run: python benchmarks/bench_cli_startup.py
"""

import statistics
import subprocess
import sys
import time

REPEATS = 7


def wall(argv: list[str]) -> float:
    """Median wall time of a whole `python -m sim ...` process over REPEATS runs."""
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", *argv], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    base = wall(["--version"])
    print(f"python -m sim --version   {base:.3f} s (median of {REPEATS})")
    for argv in (["--help"], ["run", "--help"]):
        print(f"python -m sim {' '.join(argv):<12} {wall(argv):.3f} s (median of {REPEATS})")


if __name__ == "__main__":
    main()
