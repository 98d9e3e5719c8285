"""The drawings outcome kinds ask for, by key: a kind names a `Figure` (`sim.model.outcomes`)
and `sim run` draws it here, so figure code stays in the report stage while each kind says
which of its columns is drawn and how.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.model.outcomes import Figure, wide
from sim.report import figures


def _fan(fig: Figure, runs, series, months: int, start: str, label: str):
    if series is None or fig.column not in series:
        return None
    values = wide(series, fig.column)
    ax = figures.fan_chart(values, label=label, title=fig.title, start=start)
    if fig.ylabel:
        ax.set_ylabel(fig.ylabel)
    return ax


def _months_histogram(fig: Figure, runs, series, months: int, start: str, label: str):
    if fig.column not in runs:
        return None
    return figures.betrayal_months(runs[fig.column], months, title=fig.title)


DRAW: dict[str, Callable] = {"fan": _fan, "months_histogram": _months_histogram}


def register(key: str, draw: Callable) -> None:
    """Make ``draw(fig, runs, series, months, start, label) -> axes or None`` the drawing of
    figures with ``key``.
    """
    DRAW[key] = draw


def draw(
    fig: Figure,
    runs: pd.DataFrame,
    series: pd.DataFrame | None,
    months: int,
    start: str = "",
    label: str = "",
):
    """The axes of a kind's figure (None if its data is missing or its key is unknown)."""
    fn = DRAW.get(fig.key)
    return None if fn is None else fn(fig, runs, series, months, start, label)
