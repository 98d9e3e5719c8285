"""Outcome kind ``partnership``: a pair's alignment above a threshold for k consecutive months.

Declared as ``[outcomes.X] kind = "partnership"`` with ``actors = [a, b]``, ``threshold``
(in (-1, 1)) and ``months`` (k). Columns: ``X`` (true/false), ``X_month`` and ``X_date`` (when
it was reached), and the pair's alignment at the horizon and on average. The first declared
partnership's pair is "the" alignment of the scenario: its columns are ``alignment_final`` and
``alignment_mean`` and its per-month series ``alignment`` (Mesa's DataCollector; in
trajectories.parquet it is the pair's own column); further partnerships prefix their id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sim.model.outcomes.columns import dates, optional, pair_column, wide
from sim.model.outcomes.kind import (
    BaseKind,
    Context,
    Figure,
    Headlines,
    Outcome,
    ThresholdCheck,
    threshold_check,
)
from sim.model.outcomes.registry import register
from sim.scenario.sections import actor_list

if TYPE_CHECKING:
    import pandas as pd

    from sim.model.engine import Trajectory
    from sim.model.params import Params
    from sim.scenario.checker import Checker
    from sim.scenario.sections import OutcomeSpec


def best_level(series: np.ndarray, run_length: int) -> np.ndarray:
    """The highest threshold each run's alignment stayed above for ``run_length`` consecutive
    months: the maximum over windows of the window's minimum, (R,); NaN where the run is
    shorter than the window. ``series`` is (R, T) over months 1..T.
    """
    if series.shape[1] < run_length:
        return np.full(len(series), np.nan)
    return sliding_window_view(series, run_length, axis=1).min(axis=2).max(axis=1)


def partnership_months(
    series: np.ndarray, threshold: np.ndarray, run_length: np.ndarray
) -> np.ndarray:
    """Month (1-based) at which alignment first stayed above ``threshold`` for ``run_length``
    consecutive months, or 0 if never. ``series`` is (R, T) over months 1..T.
    """
    above = series > np.reshape(threshold, (-1, 1))
    need = np.reshape(run_length, (-1,))
    run = np.zeros(len(series), dtype=np.int64)
    reached = np.zeros(len(series), dtype=np.int64)
    for t in range(series.shape[1]):
        run = np.where(above[:, t], run + 1, 0)
        reached = np.where((reached == 0) & (run >= need), t + 1, reached)
    return reached


class Partnership(BaseKind):
    """A pair's alignment above a threshold for k consecutive months (C1, C2)."""

    name = "partnership"
    keys = ("actors", "threshold", "months")
    event = True
    wanted = True

    def declare(
        self, c: Checker, doc: Mapping[str, Any], field: str, actions: Mapping[str, tuple[str, ...]]
    ) -> dict[str, Any]:
        """Check ``actors`` (two different actors), ``threshold`` and ``months``."""
        return {
            "actors": actor_list(c, doc, field, "actors", tuple(actions), 2),
            "threshold": c.number(doc, field, "threshold", -1, 1, lo_open=True, hi_open=True),
            "months": c.number(doc, field, "months", 1, 10_000, integer=True),
        }

    @staticmethod
    def _prefix(spec: OutcomeSpec, ctx: Context) -> str:
        return "alignment" if ctx.first else f"{spec.id}_alignment"

    def outcomes(self, spec: OutcomeSpec, ctx: Context) -> tuple[Outcome, ...]:
        """The yes/no outcome, when it was reached, and the pair's alignment."""
        f = spec.fields
        a, b = (ctx.label(x) for x in f["actors"])
        pre = self._prefix(spec, ctx)
        out = [Outcome(pre, "index in [-1, 1]", f"{a}-{b} alignment", "series")]
        return (
            *out,
            Outcome(
                spec.id,
                "true/false",
                f"{f['label']}: {a}-{b} alignment above {f['threshold']:g} for "
                f"{f['months']} consecutive months",
            ),
            Outcome(f"{spec.id}_month", "month", "Month it was reached (empty if never)"),
            Outcome(f"{spec.id}_date", "YYYY-MM", "Calendar month it was reached"),
            Outcome(f"{pre}_final", "index in [-1, 1]", f"{a}-{b} alignment at the horizon"),
            Outcome(f"{pre}_mean", "index in [-1, 1]", f"{a}-{b} alignment, mean over months"),
        )

    def _pair(self, spec: OutcomeSpec, traj: Trajectory, params: Params) -> np.ndarray:
        i, j = (params.actors.index(a) for a in spec.fields["actors"])
        return traj.pair_series(i, j).astype(np.float64)

    def columns(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, Any]:
        """When the pair first stayed above the threshold long enough, and its alignment."""
        f = spec.fields
        months = self._pair(spec, traj, params)[:, 1:]
        reached = partnership_months(months, f["threshold"], f["months"])
        pre = self._prefix(spec, ctx)
        return {
            spec.id: reached > 0,
            f"{spec.id}_month": optional(reached),
            f"{spec.id}_date": dates(reached, traj.start),
            f"{pre}_final": months[:, -1],
            f"{pre}_mean": months.mean(axis=1),
        }

    def series(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, np.ndarray]:
        """The pair's alignment per month."""
        return {self._prefix(spec, ctx): self._pair(spec, traj, params)}

    def stored_series(self, spec: OutcomeSpec, ctx: Context) -> tuple[str, ...]:
        """None: trajectories.parquet already holds every pair's alignment column."""
        return ()

    def headlines(self, spec: OutcomeSpec, h: Headlines, ctx: Context) -> None:
        """P(partnership) and the median month it was reached."""
        f, i = spec.fields, spec.id
        a, b = (ctx.label(x) for x in f["actors"])
        note = f"{a}-{b} above {f['threshold']:g} for {f['months']} months"
        self.share_row(spec, h, f"P({f['label']})", note)
        h.median(
            f"median month of {i}",
            f"{i}_month",
            "among runs with one" + h.date_note(f"{i}_date"),
            i,
            "median_month",
        )

    def threshold_check(
        self, spec: OutcomeSpec, runs: pd.DataFrame, series: pd.DataFrame | None = None
    ) -> ThresholdCheck | None:
        """Share of runs whose best k-month level (`best_level`) lies within the tolerance
        of the threshold; needs the per-month table (None without it).
        """
        if series is None:
            return None
        a, b = spec.fields["actors"]
        col = next((c for c in (pair_column(a, b), pair_column(b, a)) if c in series), None)
        if col is None:
            return None
        level = best_level(wide(series, col, 1), spec.fields["months"])
        what = f"the pair's highest alignment held for {spec.fields['months']} months"
        return threshold_check(level, spec.fields["threshold"], what)

    def figures(self, spec: OutcomeSpec, ctx: Context) -> tuple[Figure, ...]:
        """A fan chart of the pair's alignment."""
        a, b = spec.fields["actors"]
        name = "alignment_fan" if ctx.first else f"{spec.id}_alignment_fan"
        title = f"{ctx.label(a)}-{ctx.label(b)} alignment (index, -1 to 1)"
        return (Figure("fan", pair_column(a, b), name, title, "alignment"),)


KIND = register(Partnership())
