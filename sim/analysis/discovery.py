"""Scenario discovery: which parameter ranges lead to an outcome (PRIM-style peeling).

A small implementation of the Patient Rule Induction Method (Friedman and Fisher 1999), the
box search EMA workbench uses for scenario discovery (Bryant and Lempert 2010). Starting from
the box holding every run, each step peels off the ``alpha`` share of runs at one edge of one
parameter, choosing the peel that raises the share of "cases of interest" inside the box most.
Along the way it records

* **coverage**: the share of all cases of interest that fall inside the box;
* **density**: the share of runs inside the box that are cases of interest;
* **mass**: the share of all runs inside the box.

The analyst picks a box on this coverage-density trade-off; :func:`choose` takes the box of
highest coverage among those of at least the requested density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Box:
    """One box on the peeling trajectory: limits per parameter and its statistics."""

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float

    def restricted(self) -> dict[str, tuple[float, float]]:
        """Only the parameters the box restricts (an open side is infinite)."""
        return {k: v for k, v in self.limits.items() if np.isfinite(v).any()}

    def describe(self) -> str:
        """Read the box in one line, e.g. ``a in [0.2, 0.9] and b <= 0.4``."""
        parts = []
        for name, (lo, hi) in self.restricted().items():
            if np.isfinite(lo) and np.isfinite(hi):
                parts.append(f"{name} in [{lo:.3g}, {hi:.3g}]")
            elif np.isfinite(lo):
                parts.append(f"{name} >= {lo:.3g}")
            else:
                parts.append(f"{name} <= {hi:.3g}")
        return " and ".join(parts) or "no restriction (the whole space)"


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    total = y.sum()
    n_in = inside.sum()
    hits = y[inside].sum()
    coverage = float(hits / total) if total else 0.0
    density = float(hits / n_in) if n_in else 0.0
    return coverage, density, float(n_in / len(y))


def peel(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05) -> list[Box]:
    """Return the PRIM peeling trajectory of boxes for cases of interest ``y`` (bool) over ``x``.

    ``x`` has one column per parameter and one row per run. Peeling stops when no peel raises
    the density or the box would hold less than ``min_mass`` of the runs.
    """
    y = np.asarray(y, dtype=bool)
    values = x.to_numpy(dtype=float)
    names = list(x.columns)
    lo = np.full(len(names), -np.inf)  # an open side until it is peeled
    hi = np.full(len(names), np.inf)
    inside = np.ones(len(y), dtype=bool)
    boxes = [Box(dict(zip(names, zip(lo, hi, strict=True), strict=True)), *_stats(inside, y))]
    while True:
        best = None
        best_density = boxes[-1].density
        for j in range(len(names)):
            col = values[inside, j]
            for side in ("low", "high"):
                q = np.quantile(col, alpha if side == "low" else 1 - alpha)
                keep = (values[:, j] > q) if side == "low" else (values[:, j] < q)
                candidate = inside & keep
                if candidate.sum() < min_mass * len(y) or candidate.sum() == inside.sum():
                    continue
                den = _stats(candidate, y)[1]
                if den > best_density + 1e-12:
                    best, best_density = (j, side, candidate), den
        if best is None:
            return boxes
        j, side, inside = best
        new_lo, new_hi = lo.copy(), hi.copy()
        new_lo[j] = values[inside, j].min() if side == "low" else lo[j]
        new_hi[j] = values[inside, j].max() if side == "high" else hi[j]
        lo, hi = new_lo, new_hi
        limits = dict(zip(names, zip(lo, hi, strict=True), strict=True))
        boxes.append(Box(limits, *_stats(inside, y)))


def choose(boxes: list[Box], min_density: float = 0.8) -> Box:
    """Pick the box of highest coverage with at least ``min_density`` (else the densest box)."""
    good = [b for b in boxes if b.density >= min_density]
    if good:
        return max(good, key=lambda b: (b.coverage, b.density))
    return max(boxes, key=lambda b: (b.density, b.coverage))


def discover(
    runs: pd.DataFrame,
    parameters: list[str],
    outcome: str,
    *,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    min_density: float = 0.8,
) -> tuple[list[Box], Box]:
    """Peel boxes for the runs where boolean ``outcome`` holds; return trajectory and choice."""
    y = runs[outcome].astype(bool).to_numpy()
    boxes = peel(runs[parameters], y, alpha=alpha, min_mass=min_mass)
    return boxes, choose(boxes, min_density)


def trajectory_table(boxes: list[Box]) -> pd.DataFrame:
    """Tabulate the peeling trajectory (step, coverage, density, mass)."""
    return pd.DataFrame(
        [
            {"step": i, "coverage": b.coverage, "density": b.density, "mass": b.mass}
            for i, b in enumerate(boxes)
        ]
    )
