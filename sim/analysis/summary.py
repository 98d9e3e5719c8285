"""Headline numbers of a run table: the declared outcomes' probabilities with Wilson
intervals, medians and dates, the victim's response after a defection, blocs and policy
changes. One table serves `sim run`'s printout, `sim.api` (`Result.summary`) and the report.
Each declared outcome's rows come from its kind (`sim.model.outcomes`), which may flag a row
as not a finding (a probability a threshold decides; a "response" that is the usual action).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.statistics import wilson
from sim.model import outcomes
from sim.scenario import Scenario

INTERVAL_NOTE = "95% Wilson interval over runs: sampling uncertainty only"
COLUMNS = ["statistic", "value", "low95", "high95", "note", "outcome", "key", "flag"]


class _Table:
    """The summary being built: the `Headlines` each outcome kind adds its rows to."""

    def __init__(self, runs: pd.DataFrame, series: pd.DataFrame | None) -> None:
        self.runs = runs
        self.series = series
        self.rows: list[tuple] = []

    def share(self, label, column, note, oid, key, among=None, flag="") -> None:
        """A share of runs with its Wilson interval (left out if the column is missing)."""
        runs = self.runs
        if isinstance(column, str) and column not in runs:
            return
        mask = (runs[column] if isinstance(column, str) else column).astype(bool)
        if among is not None:
            mask = mask[among]
        k, m = int(mask.sum()), len(mask)
        if m == 0:
            self.rows.append(
                (label, float("nan"), None, None, note + " (no runs qualify)", oid, key, flag)
            )
            return
        p, lo, hi = wilson(k, m)
        self.rows.append((label, p, lo, hi, f"{note} ({k} of {m})", oid, key, flag))

    def median(self, label, column, note, oid, key) -> None:
        """The median of a column over the runs with a value (left out if it is missing)."""
        if column not in self.runs:
            return
        v = self.runs[column].dropna()
        value = float(v.median()) if len(v) else float("nan")
        if column.endswith("_month") and len(v):
            # A month is a month: the lower median (one run's month), the same run-month whose
            # date `date_note` gives, so "median month 47" and its date always agree.
            value = float(np.sort(v.to_numpy())[(len(v) - 1) // 2])
        self.rows.append((label, value, None, None, note, oid, key, ""))

    def value(self, label, value, note, oid, key, flag="") -> None:
        """A plain value."""
        self.rows.append((label, value, None, None, note, oid, key, flag))

    def date_note(self, column: str) -> str:
        """``"; median date YYYY-MM"`` of a date column ('' if it has none)."""
        dates = self.runs[column].dropna() if column in self.runs else pd.Series(dtype=str)
        return f"; median date {sorted(dates)[(len(dates) - 1) // 2]}" if len(dates) else ""


def summarise(
    runs: pd.DataFrame,
    scenario: Scenario | None = None,
    months: int | None = None,
    series: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Headline numbers of a run table: one row per statistic with its value, a 95% interval
    where it is a share of runs (Wilson; sampling uncertainty only), and what it means.

    The outcomes are the scenario's declarations; each one's rows come from its kind
    (`sim.model.outcomes`); dates are calendar months from the scenario's start. ``outcome``
    names the declared outcome a row is about and ``key`` what the row is (``p``,
    ``p_offered``, ``median_month``, ``response:<action>``, ...), for programs; statistics
    whose columns the table lacks are left out. ``flag`` is empty for a finding; otherwise it
    says, in place of the value, why the row is not one ("not informative": a threshold
    decides it; "no distinct response": the victim does what it does anyway), and ``note``
    says how that was found. ``series`` (the per-month table) lets a defection's response be
    compared with the victim's other months.
    """
    n = len(runs)
    t = _Table(runs, series)
    t.rows.append(("runs", n, None, None, "replicates", "", "runs", ""))
    specs = scenario.outcomes if scenario is not None else ()
    labels = {a.id: a.label for a in scenario.actors} if scenario is not None else None
    for spec, kind, ctx in outcomes.specs(specs, labels):
        if spec.id in runs:
            kind.headlines(spec, t, ctx)
    if "bloc_change" in runs:
        t.share(
            "P(bloc change)",
            "bloc_change",
            "final two blocs differ from the start's",
            "",
            "p_bloc_change",
        )
    if "blocs" in runs:
        t.value(
            "most common bloc structure",
            runs.blocs.mode().iat[0] if n else "",
            "landscape theory",
            "",
            "blocs",
        )
    per_decade = 120.0 / months if months else 1.0
    for col in [c for c in runs.columns if c.startswith("changes_")]:
        actor = col.removeprefix("changes_")
        name = scenario.label(actor) if scenario is not None else actor
        t.value(
            f"policy changes of {name} per 10 years",
            float(runs[col].mean()) * per_decade,
            "mean over runs",
            "",
            f"changes:{actor}",
        )
    return pd.DataFrame(t.rows, columns=COLUMNS)
