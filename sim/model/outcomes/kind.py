"""What an outcome kind is: the `Kind` protocol every kind module implements, and `BaseKind`.

A kind is what a scenario's ``[outcomes.X]`` names with ``kind = "..."``. One object holds all
there is to know about it (EMA Workbench's outcomes, SALib's methods): how a declaration is
checked (`declare`), the columns it adds with units and descriptions (`outcomes`), how they are
computed from a trajectory (`columns`, per run; `series`, per month), the headline rows of the
summary (`headlines`), the figures of `sim run` (`figures`, named by a key that the report stage
looks up), the question a lever analysis asks of it (`case`) and whether its probability is
decided by a threshold rather than by the model (`threshold_check`). Code elsewhere asks the
registry (`sim.model.outcomes.registry`) and never switches on a kind's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # only for annotations: the engine imports the compiled kernel
    import pandas as pd

    from sim.model.engine import Trajectory
    from sim.model.params import Params
    from sim.scenario.checker import Checker
    from sim.scenario.sections import OutcomeSpec


@dataclass(frozen=True)
class Outcome:
    """A declared outcome: its column name, unit and a description an analyst can read."""

    name: str
    unit: str
    description: str
    kind: str = "scalar"  # "scalar" (one value per run) or "series" (one per run and month)


@dataclass(frozen=True)
class Context:
    """What a kind needs to know about the other declarations and the scenario's actors.

    ``first`` says whether this is the first declared outcome of its kind (whose columns may
    take a short name, such as ``alignment_final``); ``labels`` maps actor ids to display
    labels.
    """

    first: bool = True
    labels: Mapping[str, str] | None = None

    def label(self, actor: str) -> str:
        """The display label of an actor (its id if none is known)."""
        return (self.labels or {}).get(actor, actor)


@dataclass(frozen=True)
class Figure:
    """A figure a kind asks `sim run` to draw: ``key`` names the drawing function in the report
    stage's registry (`sim.report.outcome_figures`), ``column`` the data it draws, ``name`` the
    file name and ``title`` the title.
    """

    key: str
    column: str
    name: str
    title: str
    ylabel: str = ""


@dataclass(frozen=True)
class ThresholdCheck:
    """How close the runs sit to the threshold that decides a yes/no outcome.

    ``share`` is the share of runs whose deciding statistic lies within ``tolerance`` of the
    ``threshold``; when it reaches ``limit`` the outcome is ``decided`` by where the threshold
    was put (moving it by its own stated precision flips that share of runs), not by the model.
    """

    share: float
    tolerance: float
    threshold: float
    limit: float
    statistic: str  # what is compared with the threshold, in words

    @property
    def decided(self) -> bool:
        """Whether the threshold, not the model, decides the outcome."""
        return self.share >= self.limit

    def note(self) -> str:
        """The reason, in words, for the summary and the report."""
        return (
            f"decided by the threshold, not informative: in {self.share:.0%} of runs "
            f"{self.statistic} lies within {self.tolerance:g} of {self.threshold:g}"
        )


# Thresholds in scenarios are stated to a tenth or a twentieth of their scale (a band of 1.0,
# a partnership at 0.75), so their own precision is about +-0.05: a run whose deciding
# statistic lies that close could fall either side under an equally defensible threshold.
TOLERANCE = 0.05
# When a quarter of the runs lie that close, moving the threshold within its precision moves
# the probability by up to 0.25, more than any sampling interval of 100 runs or more: the
# threshold, not the model, decides the answer.
LIMIT = 0.25


def threshold_check(
    values: np.ndarray,
    threshold: float,
    statistic: str,
    tolerance: float = TOLERANCE,
    limit: float = LIMIT,
) -> ThresholdCheck:
    """The `ThresholdCheck` of per-run statistics ``values`` against ``threshold`` (NaNs left
    out; no runs gives a share of 0).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    share = float(np.mean(np.abs(v - threshold) <= tolerance)) if len(v) else 0.0
    return ThresholdCheck(share, tolerance, threshold, limit, statistic)


class Headlines(Protocol):
    """The summary table a kind adds its headline rows to (`sim.analysis.summary` implements
    it: shares get Wilson intervals there). ``runs`` is the run table; ``series`` the per-month
    table (`sim.model.outcomes.series_table`) when the caller has it, else None.
    """

    runs: pd.DataFrame
    series: pd.DataFrame | None

    def share(
        self,
        label: str,
        column: str | pd.Series,
        note: str,
        oid: str,
        key: str,
        among: pd.Series | None = None,
        flag: str = "",
    ) -> None:
        """A share of runs (a column or a mask) with its interval, optionally ``among`` a
        subset; ``flag`` marks a row that is not a finding (the summary says why in ``note``).
        """
        ...

    def median(self, label: str, column: str, note: str, oid: str, key: str) -> None:
        """The median of a column over the runs that have a value."""
        ...

    def value(self, label: str, value: Any, note: str, oid: str, key: str, flag: str = "") -> None:
        """A plain value."""
        ...

    def date_note(self, column: str) -> str:
        """``"; median date YYYY-MM"`` of a date column ('' if it has no value)."""
        ...


class Kind(Protocol):
    """An outcome kind. Implement it by subclassing `BaseKind` (which gives the optional parts)
    and register an instance with `sim.model.outcomes.registry.register`.
    """

    name: str
    keys: tuple[str, ...]
    event: bool  # a yes/no outcome with a ``<id>_month`` column (survival curves, EVENTS)
    wanted: bool | None  # whether users want it to happen (levers ask how to reach or avoid it)

    def declare(
        self, c: Checker, doc: Mapping[str, Any], field: str, actions: Mapping[str, tuple[str, ...]]
    ) -> dict[str, Any]:
        """Check a declaration's own keys (`keys`) and return them as fields; bad input fails
        through ``c`` with one line naming ``field``.
        """
        ...

    def outcomes(self, spec: OutcomeSpec, ctx: Context) -> tuple[Outcome, ...]:
        """The columns it declares, with units and descriptions (series ones included)."""
        ...

    def columns(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, Any]:
        """Its per-run columns (the run table), one value per run of ``traj``."""
        ...

    def series(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, np.ndarray]:
        """Its per-month series, (R, T + 1) each (month 0 is the start)."""
        ...

    def stored_series(self, spec: OutcomeSpec, ctx: Context) -> tuple[str, ...]:
        """The series written to trajectories.parquet."""
        ...

    def headlines(self, spec: OutcomeSpec, h: Headlines, ctx: Context) -> None:
        """Add its rows to the summary."""
        ...

    def figures(self, spec: OutcomeSpec, ctx: Context) -> tuple[Figure, ...]:
        """The figures `sim run` draws for it."""
        ...

    def threshold_check(
        self, spec: OutcomeSpec, runs: pd.DataFrame, series: pd.DataFrame | None = None
    ) -> ThresholdCheck | None:
        """Whether a threshold rather than the model decides it, from the run table and, where
        given, the per-month table (None: no threshold, or the tables lack the statistic).
        """
        ...


class BaseKind:
    """Defaults for the optional parts of a `Kind`: no per-month series, no figures, no
    threshold check, not an event, no lever question.
    """

    name = ""
    keys: tuple[str, ...] = ()
    event = False
    wanted: bool | None = None

    def series(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, np.ndarray]:
        """Per-month values (R, T+1; month 0 is the start) of the kind's series outcomes."""
        return {}

    def stored_series(self, spec: OutcomeSpec, ctx: Context) -> tuple[str, ...]:
        """The series written to trajectories.parquet (default: all of `series`)."""
        return tuple(o.name for o in self.outcomes(spec, ctx) if o.kind == "series")

    def figures(self, spec: OutcomeSpec, ctx: Context) -> tuple[Figure, ...]:
        """The figures `sim run` draws for this outcome."""
        return ()

    def threshold_check(
        self, spec: OutcomeSpec, runs: pd.DataFrame, series: pd.DataFrame | None = None
    ) -> ThresholdCheck | None:
        """How close the runs sit to the threshold that decides the outcome (None: no such
        threshold, or the tables lack the statistic).
        """
        return None

    def outcomes(self, spec: OutcomeSpec, ctx: Context) -> tuple[Outcome, ...]:
        """The columns it declares (every kind gives its own)."""
        raise NotImplementedError

    def share_row(self, spec: OutcomeSpec, h: Headlines, label: str, note: str) -> None:
        """The outcome's share of runs as a headline row, flagged "not informative" (and the
        note says why) when its threshold, not the model, decides it (`threshold_check`).
        """
        check = self.threshold_check(spec, h.runs, h.series)
        if check is not None and check.decided:
            note = f"{check.note()}; {note}"
            h.share(label, spec.id, note, spec.id, "p", flag="not informative")
        else:
            h.share(label, spec.id, note, spec.id, "p")

    def headlines(self, spec: OutcomeSpec, h: Headlines, ctx: Context) -> None:
        """Add its rows to the summary (every kind gives its own)."""
        raise NotImplementedError
