"""Time exhaustive landscape search (sim.landscape) for 20 actors: 2**19 configurations.

Run: python benchmarks/bench_landscape.py [--actors N] [--replicates R] [--repeat K]
Prints the best of K wall-clock times (time.perf_counter) for each step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.model import landscape


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=20)
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, reps = args.actors, args.replicates
    rng = np.random.default_rng(0)
    sizes = rng.uniform(0, 1, (reps, n))
    p = rng.uniform(-1, 1, (reps, n, n))
    p = (p + np.swapaxes(p, 1, 2)) / 2
    steps = {
        "configurations": lambda: landscape.configurations(n),
        "energies (all configurations)": lambda: landscape.energies(sizes[0], p[0]),
        "best_configuration": lambda: landscape.best_configuration(sizes[0], p[0]),
        f"best_configuration x {reps} replicates": lambda: landscape.best_configuration(sizes, p),
        "analyse (minima + basins)": lambda: landscape.analyse(sizes[0], p[0]),
    }
    print(f"{n} actors, {2 ** (n - 1)} configurations, best of {args.repeat}:")
    for name, fn in steps.items():
        print(f"  {name:<40} {best_time(fn, args.repeat):8.3f} s")
    result = landscape.analyse(sizes[0], p[0])
    print(
        f"  ({len(result.minima)} stable configurations; optimum basin "
        f"{result.basins[result.optimum]} of {result.basins.sum()})"
    )


if __name__ == "__main__":
    main()
