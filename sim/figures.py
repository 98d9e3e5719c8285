"""Figures: each takes data and an optional matplotlib ``ax`` and returns the axes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _axes(ax):
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(7, 4), layout="constrained").subplots()
    return ax


def fan_chart(series: np.ndarray, ax=None, label: str = "", color: str = "C0", title: str = ""):
    """Median with 50% and 90% bands of a (runs, months) array over the months."""
    ax = _axes(ax)
    months = np.arange(series.shape[1])
    q = np.nanquantile(series, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(months, q[0], q[4], color=color, alpha=0.15, label=f"{label} 90% band".strip())
    ax.fill_between(months, q[1], q[3], color=color, alpha=0.35, label=f"{label} 50% band".strip())
    ax.plot(months, q[2], color=color, lw=2, label=f"{label} median".strip())
    ax.set_xlabel("month")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="grey", lw=0.5)
    if title:
        ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small")
    return ax


def betrayal_months(months: pd.Series, horizon: int, ax=None, title: str = "", color: str = "C3"):
    """Histogram of the month of the first betrayal; runs without one are counted in the title."""
    ax = _axes(ax)
    values = months.dropna().to_numpy(dtype=float)
    n = len(months)
    bins = np.arange(0, horizon + 7, 6)
    ax.hist(values, bins=bins, color=color, alpha=0.8)
    ax.set_xlabel("month of first betrayal")
    ax.set_ylabel("runs")
    share = len(values) / n if n else 0.0
    ax.set_title(f"{title}\n{share:.0%} of {n} runs see a betrayal within {horizon} months".strip())
    return ax


def save(ax, path: Path, caption: str = "") -> list[Path]:
    """Save the axes' figure as PNG and SVG, with an optional caption under it."""
    fig = ax.figure
    if caption:
        fig.text(0.01, 0.0, caption, fontsize=7, color="dimgray", ha="left", va="bottom")
    path = Path(path)
    out = []
    for ext in ("png", "svg"):
        target = path.with_suffix(f".{ext}")
        fig.savefig(target, dpi=110)
        out.append(target)
    return out
