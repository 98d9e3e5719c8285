"""Helpers the outcome kinds share: column names and run statistics over boolean masks.

Column names are plain identifiers (SQL friendly): per-month columns are
``alignment__<a>__<b>`` and ``action__<actor>``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import calendar

SEP = "__"  # separates actor ids in per-month column names (actor ids may hold "_")


def pair_column(a: str, b: str) -> str:
    """The per-month alignment column of actors ``a`` and ``b`` (file order)."""
    return f"alignment{SEP}{a}{SEP}{b}"


def action_column(actor: str) -> str:
    """The per-month action column of ``actor``."""
    return f"action{SEP}{actor}"


def wide(series: pd.DataFrame, column: str, first: int = 0) -> np.ndarray:
    """One per-month column as a (replicates, months) array, months ``first`` onwards.

    Per-month tables come replicate by replicate with every month in order, so the column is
    reshaped in place (a view); any other order goes through a pivot (which costs several
    times the table's memory, too much for a large run).
    """
    m = series["month"].to_numpy()
    months = int(m[: min(len(m), 100_000)].max()) + 1 if len(m) else 0
    if months and len(m) % months == 0:
        m2 = m.reshape(-1, months)
        r2 = series["replicate"].to_numpy().reshape(-1, months)
        if (m2 == np.arange(months)).all() and (r2 == r2[:, :1]).all():
            return series[column].to_numpy().reshape(-1, months)[:, first:]
    sub = series[series["month"] >= first]
    return sub.pivot(index="replicate", columns="month", values=column).to_numpy()


def pair_of(column: str) -> tuple[str, str]:
    """The two actor ids of an alignment column."""
    _, a, b = column.split(SEP)
    return a, b


def first_true(mask: np.ndarray) -> np.ndarray:
    """1-based index of the first True along axis 1, or 0 where there is none."""
    hit = mask.any(axis=1)
    return np.where(hit, mask.argmax(axis=1) + 1, 0)


def episodes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(number of episodes, length of the first) of spells of True along axis 1."""
    padded = np.pad(mask, ((0, 0), (1, 0)))
    starts = mask & ~padded[:, :-1]
    count = starts.sum(axis=1)
    first = first_true(mask)
    t = np.arange(1, mask.shape[1] + 1)
    after = t[None, :] >= first[:, None]
    # The first episode ends at the first False after it starts.
    ended = ~mask & after & (first[:, None] > 0)
    end = np.where(ended.any(axis=1), ended.argmax(axis=1) + 1, mask.shape[1] + 1)
    length = np.where(first > 0, end - first, 0)
    return count, length


def dates(months: np.ndarray, start: str) -> pd.api.extensions.ExtensionArray:
    """Calendar months ("YYYY-MM") of 1-based months, empty where the month is 0."""
    values = [calendar.date_of(int(m), start) if m > 0 and start else None for m in months]
    return pd.Series(np.array(values, dtype=object), dtype="str").array


def optional(months: np.ndarray) -> pd.arrays.IntegerArray:
    """Months as a nullable integer column, empty where the month is 0."""
    return pd.array(np.where(months > 0, months, None), dtype="Int64")
