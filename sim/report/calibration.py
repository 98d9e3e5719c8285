"""Figures of a calibration: marginals against priors, pairwise posteriors, the posterior
predictive of each pair's series over the observed points, and the screening.

Each function takes plain tables and returns an axes of the figure it drew (save it with
`sim.report.figures.save`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def _grid(n: int, cols: int, size: tuple[float, float] = (3.2, 2.4)):
    import matplotlib.pyplot as plt

    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def short(name: str) -> str:
    """A parameter name short enough for a panel title."""
    parts = name.split(".")
    return ".".join(parts[-3:]) if len(parts) > 3 else name


def marginals(
    posterior: pd.DataFrame,
    names: Sequence[str],
    low: Sequence[float],
    high: Sequence[float],
    reference: Mapping[str, float] | None = None,
    title: str = "",
):
    """Weighted posterior histogram of each parameter over its uniform prior (grey); the
    scenario's own value (the article's reading) as a dashed line where there is one.
    """
    fig, axes = _grid(len(names), 4)
    w = posterior["weight"].to_numpy()
    for ax, name, lo, hi in zip(axes, names, low, high, strict=False):
        bins = np.linspace(lo, hi, 21)
        ax.hist(posterior[name], bins=bins, weights=w, density=True, color="C0", alpha=0.75)
        ax.hlines(1.0 / (hi - lo), lo, hi, color="0.5", lw=2, label="prior")
        if reference and name in reference:
            ax.axvline(reference[name], color="C3", ls="--", label="scenario value")
        ax.set_title(short(name), fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    fig.suptitle(title or "Posterior marginals (blue) against priors (grey)", fontsize=10)
    fig.tight_layout()
    return axes[0]


def pairs(posterior: pd.DataFrame, names: Sequence[str], title: str = ""):
    """Pairwise posterior scatter (point size by weight) of the parameters, lower triangle."""
    import matplotlib.pyplot as plt

    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.7 * k + 1, 1.7 * k + 1), squeeze=False)
    w = posterior["weight"].to_numpy()
    size = 40 * w / w.max()
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(posterior[names[i]], bins=20, weights=w, color="C0", alpha=0.75)
            else:
                ax.scatter(posterior[names[j]], posterior[names[i]], s=size, alpha=0.4, lw=0)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(short(names[j]), fontsize=6)
            if j == 0 and i > 0:
                ax.set_ylabel(short(names[i]), fontsize=6)
    fig.suptitle(title or "Pairwise posterior", fontsize=10)
    fig.tight_layout()
    return axes[0, 0]


def predictive(
    bands: pd.DataFrame,
    history: pd.DataFrame,
    anchor: tuple[int, int],
    labels: Mapping[str, str] | None = None,
    title: str = "",
):
    """Per pair: the posterior predictive median with 50% and 90% bands over the observed
    years, the observed points with their 90% measurement intervals, earlier sessions in grey.
    """
    from matplotlib.ticker import MaxNLocator

    pairs = list(dict.fromkeys(bands.pair))
    fig, axes = _grid(len(pairs), 3, size=(3.6, 2.6))
    for ax, pair in zip(axes, pairs, strict=False):
        b = bands[bands.pair == pair]
        h = history[history.pair == pair]
        early = h[h.year <= anchor[1]]
        ax.plot(early.year, early.distance, color="0.6", marker=".", lw=1, label="earlier")
        ax.axvspan(anchor[0] - 0.5, anchor[1] + 0.5, color="0.92", label="anchor")
        ax.fill_between(b.year, b.q05, b.q95, color="C0", alpha=0.2, label="90% predictive")
        ax.fill_between(b.year, b.q25, b.q75, color="C0", alpha=0.4, label="50% predictive")
        ax.plot(b.year, b.q50, color="C0", lw=1.5)
        ax.errorbar(
            b.year,
            b.observed,
            yerr=1.6448536 * b.sd,
            fmt="o",
            color="k",
            ms=4,
            capsize=2,
            label="observed (90% interval)",
        )
        a, c = pair.split("-")
        name = f"{labels.get(a, a)} - {labels.get(c, c)}" if labels else pair
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("ideal-point distance", fontsize=7)
    axes[0].legend(fontsize=6, loc="best")
    fig.suptitle(title or "Posterior predictive of UN General Assembly distances", fontsize=10)
    fig.tight_layout()
    return axes[0]


def screening(table: pd.DataFrame, selected: Sequence[str], top: int = 20, title: str = ""):
    """Morris mu* (with its 95% interval) of the most influential candidates; the selected
    parameters in blue.
    """
    import matplotlib.pyplot as plt

    t = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(t) + 1.2))
    colors = ["C0" if n in selected else "0.6" for n in t.name]
    ax.barh([short(n) for n in t.name], t.mu_star, xerr=t.mu_star_conf, color=colors)
    ax.set_xlabel("Morris mu* on the calibration distance")
    ax.tick_params(labelsize=7)
    ax.set_title(title or "Screening: which parameters move the fit (blue: calibrated)", fontsize=9)
    fig.tight_layout()
    return ax
