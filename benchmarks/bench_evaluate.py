"""Batch evaluation (`api.evaluate`) versus one `api.simulate` call per point.

    python benchmarks/bench_evaluate.py                      # 200 points x 50 replicates
    python benchmarks/bench_evaluate.py --points 50 --replicates 20

Both sides run the same runs (same seed, point indices, replicates, 120 months of the baseline
scenario, two parameters varied over a Latin-hypercube-like grid) and produce the same outcome
means; the loop calls `api.simulate` with the point as overrides, once with its default
(per-month series kept) and once with ``keep_series=False`` (its fastest form). One process.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
NAMES = ("actors.russia.salience.ukraine", "events.western_offer.hazard")


def make_points(n: int) -> np.ndarray:
    """``n`` points spread over the two parameters' plausible ranges (fixed, no randomness)."""
    k = np.arange(n)
    return np.column_stack([0.4 + 0.6 * (k + 0.5) / n, 0.005 + 0.075 * ((k * 7) % n + 0.5) / n])


def timed(fn) -> tuple[float, object]:
    """Wall seconds of one call, and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    from sim import api

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    points = make_points(args.points)
    kw = {"replicates": args.replicates, "seed": 1, "months": args.months}
    api.evaluate(points[:2], NAMES, **kw)  # warm-up: imports, first compile

    batch, table = timed(lambda: api.evaluate(points, NAMES, **kw))

    def loop(keep_series: bool) -> list:
        return [
            api.simulate(
                BASELINE,
                overrides=dict(zip(NAMES, map(float, row), strict=True)),
                point=p,
                keep_series=keep_series,
                **kw,
            ).runs.betrayal.mean()
            for p, row in enumerate(points)
        ]

    lean, betrayal = timed(lambda: loop(keep_series=False))
    default, _ = timed(lambda: loop(keep_series=True))
    assert np.array_equal(table.betrayal.to_numpy(), np.array(betrayal)), "results differ"
    runs = args.points * args.replicates
    print(f"runs:            {args.points} points x {args.replicates} replicates = {runs:,}")
    print(f"api.evaluate:    {batch:8.2f} s")
    print(f"simulate loop:   {lean:8.2f} s  keep_series=False: ratio {lean / batch:5.1f} x")
    print(f"simulate loop:   {default:8.2f} s  default (series):  ratio {default / batch:5.1f} x")
    print(f"cpus:            {os.cpu_count()}")


if __name__ == "__main__":
    main()
