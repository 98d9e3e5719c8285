"""Outcome kind ``balance``: one actor's alignment with one side minus with the other (C15's
hedging), and whether it ends within a band.

Declared as ``[outcomes.X] kind = "balance"`` with ``actor``, ``east``, ``west`` (three
different actors) and ``band`` (in (0, 2]). One name, one meaning: ``X`` is the true/false
outcome (the actor ends with |index| <= band), ``X_index`` the balance index per month (in
[-2, 2]; trajectories.parquet and Mesa's DataCollector), ``X_final`` and ``X_mean`` the index
at the horizon and on average.

A band edge can sit on the runs' resting point: in the baseline the final index has median
0.9998 against a band of 1.0, so whether a run "hedges" is a coin toss decided by where the
band was put. `threshold_check` detects this from the runs (`kind.TOLERANCE`, `kind.LIMIT`),
and the summary and report then say "decided by the threshold, not informative" instead of
reporting the probability as a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model.outcomes.kind import (
    BaseKind,
    Context,
    Headlines,
    Outcome,
    ThresholdCheck,
    threshold_check,
)
from sim.model.outcomes.registry import register

if TYPE_CHECKING:
    import pandas as pd

    from sim.model.engine import Trajectory
    from sim.model.params import Params
    from sim.scenario.checker import Checker
    from sim.scenario.sections import OutcomeSpec

# The band's check uses the shared tolerance (0.05) and limit (a quarter of the runs) of
# `kind.threshold_check`. Baseline, 200 runs, seed 3: 96% of runs end within 0.05 of the band
# (flagged); betrayal_in_syria: 54% (flagged); shared_war: none.


class Balance(BaseKind):
    """One actor's alignment with ``east`` minus with ``west``, and whether it stays within
    a band (keeps both sides).
    """

    name = "balance"
    keys = ("actor", "east", "west", "band")

    def declare(
        self, c: Checker, doc: Mapping[str, Any], field: str, actions: Mapping[str, tuple[str, ...]]
    ) -> dict[str, Any]:
        """Check three different actors and the band."""
        fields = {k: c.member(doc, field, k, tuple(actions)) for k in ("actor", "east", "west")}
        if len(set(fields.values())) != 3:
            c.fail(field, "actor, east and west must be three different actors")
        fields["band"] = c.number(doc, field, "band", 0, 2, lo_open=True)
        return fields

    def outcomes(self, spec: OutcomeSpec, ctx: Context) -> tuple[Outcome, ...]:
        """The index per month, the yes/no outcome, and the index at the horizon and mean."""
        f, i = spec.fields, spec.id
        h, east, west = (ctx.label(f[k]) for k in ("actor", "east", "west"))
        return (
            Outcome(
                f"{i}_index",
                "index in [-2, 2]",
                f"{h}'s balance index: alignment with {east} minus alignment with {west}",
                "series",
            ),
            Outcome(
                i,
                "true/false",
                f"{f['label']}: {h} ends with |alignment with {east} - alignment with {west}| "
                f"<= {f['band']:g} (keeps both sides)",
            ),
            Outcome(
                f"{i}_final",
                "index in [-2, 2]",
                f"{h}'s balance index at the horizon: alignment with {east} minus with {west}",
            ),
            Outcome(f"{i}_mean", "index in [-2, 2]", f"{h}'s balance index, mean over months"),
        )

    @staticmethod
    def _index(spec: OutcomeSpec, traj: Trajectory, params: Params) -> np.ndarray:
        h, east, west = (params.actors.index(spec.fields[k]) for k in ("actor", "east", "west"))
        return traj.pair_series(h, east) - traj.pair_series(h, west)

    def columns(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, Any]:
        """Whether the final index lies within the band; the final and mean index."""
        index = self._index(spec, traj, params).astype(np.float64)
        return {
            spec.id: np.abs(index[:, -1]) <= spec.fields["band"],
            f"{spec.id}_final": index[:, -1],
            f"{spec.id}_mean": index[:, 1:].mean(axis=1),
        }

    def series(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, np.ndarray]:
        """The balance index per month (float32, as the alignment it is taken from)."""
        return {f"{spec.id}_index": self._index(spec, traj, params)}

    def threshold_check(
        self, spec: OutcomeSpec, runs: pd.DataFrame, series: pd.DataFrame | None = None
    ) -> ThresholdCheck | None:
        """Share of runs whose final |index| lies within the tolerance of the band."""
        col = f"{spec.id}_final"
        if col not in runs:
            return None
        values = np.abs(runs[col].to_numpy(dtype=np.float64))
        what = f"|{spec.id} index| at the horizon"
        return threshold_check(values, spec.fields["band"], what)

    def headlines(self, spec: OutcomeSpec, h: Headlines, ctx: Context) -> None:
        """P(within the band), flagged when the band decides it, and the median final index."""
        f, i = spec.fields, spec.id
        who = ctx.label(f["actor"])
        note = f"{who} ends within the band of {f['band']:g}"
        self.share_row(spec, h, f"P({f['label']})", note)
        h.median(
            f"median final {i} index",
            f"{i}_final",
            f"{who}: alignment with {ctx.label(f['east'])} minus with {ctx.label(f['west'])}",
            i,
            "median_final",
        )


KIND = register(Balance())
