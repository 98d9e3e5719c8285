"""Figures and the HTML section of a rolling-origin evaluation directory (`sim evaluate`).

The directory holds ``forecasts.parquet`` (one row per forecaster, origin, horizon and pair),
``summary.parquet`` (mean CRPS and coverage per forecaster, overall, per pair, per horizon),
``paired.parquet`` (CRPS differences against the reference with bootstrap intervals),
``pit.parquet`` and ``coefficients.parquet`` (the model's drift coefficient per origin). The
figures take those tables and an optional ``ax`` and return the axes.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report import figures


def crps_by_horizon(summary: pd.DataFrame, ax=None):
    """Mean CRPS per horizon, one line per forecaster (lower is better)."""
    ax = figures._axes(ax)
    part = summary[summary.group.str.startswith("horizon=")]
    for k, (name, g) in enumerate(part.groupby("forecaster", sort=False)):
        h = g.group.str.removeprefix("horizon=").astype(int)
        ax.plot(h, g.crps, marker="o", color=f"C{k}", label=name)
    ax.set_xlabel("horizon (sessions ahead)")
    ax.set_ylabel("mean CRPS (ideal-point units)")
    ax.set_title("Rolling-origin CRPS by horizon")
    ax.legend(fontsize="x-small")
    return ax


def pit_histograms(pit: pd.DataFrame, ax=None):
    """PIT histogram per forecaster, as steps (flat at 1 when the forecasts are calibrated)."""
    ax = figures._axes(ax)
    for k, (name, g) in enumerate(pit.groupby("forecaster", sort=False)):
        bins = len(g)
        edges = np.linspace(0, 1, bins + 1)
        ax.stairs(g.share.to_numpy() * bins, edges, color=f"C{k}", label=name)
    ax.axhline(1.0, color="grey", lw=1, ls="--")
    ax.set_xlabel("PIT")
    ax.set_ylabel("density")
    ax.set_title("PIT histograms (U: overconfident, hump: underconfident)")
    ax.legend(fontsize="x-small")
    return ax


def coefficient(coefs: pd.DataFrame, ax=None):
    """The model's drift coefficient per origin with its 90% interval (0: the model adds
    nothing to the core).
    """
    ax = figures._axes(ax)
    ok = coefs[coefs.n > 0]
    ax.errorbar(ok.origin, ok.beta, yerr=[ok.beta - ok.low, ok.high - ok.beta], fmt="o", capsize=3)
    ax.axhline(0.0, color="grey", lw=1, ls="--")
    ax.set_xlabel("forecast origin")
    ax.set_ylabel("coefficient (ideal-point units per unit of alignment)")
    ax.set_title("The model's drift coefficient, estimated before each origin")
    return ax


def figure_set(path: Path):
    """(file stem, axes) of every evaluation figure."""
    summary = pd.read_parquet(path / "summary.parquet")
    yield "crps_by_horizon", crps_by_horizon(summary)
    yield "pit", pit_histograms(pd.read_parquet(path / "pit.parquet"))
    coefs = pd.read_parquet(path / "coefficients.parquet")
    if (coefs.n > 0).any():
        yield "coefficient", coefficient(coefs)


def write_figures(path: Path, caption: str) -> list[Path]:
    """Save every evaluation figure as PNG and SVG into ``path / "figures"``."""
    out = []
    for stem, ax in figure_set(path):
        out += figures.save(ax, path / "figures" / stem, caption)
    return out


def _fmt(x: float, signed: bool = False) -> str:
    if pd.isna(x):
        return "n/a"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def table_html(summary: pd.DataFrame, paired: pd.DataFrame) -> str:
    """Overall scores per forecaster with the paired difference against the reference."""
    diff = paired[paired.group == "all"].set_index("forecaster")
    covers = [c for c in summary.columns if c.startswith("cover_")]
    head = "".join(f"<th>{c.replace('cover_', '')}% interval coverage</th>" for c in covers)
    lines = [
        "<table class='num'><tr><th>forecaster</th><th>forecasts</th><th>mean CRPS</th>"
        f"{head}<th>minus reference, same forecasts [90% block bootstrap]</th></tr>"
    ]
    for r in summary[summary.group == "all"].itertuples():
        d = ""
        if r.forecaster in diff.index:
            x = diff.loc[r.forecaster]
            d = f"{_fmt(x['mean'], True)} [{_fmt(x.low, True)}, {_fmt(x.high, True)}] (n={x.n})"
        cov = "".join(f"<td>{getattr(r, c):.0%}</td>" for c in covers)
        lines.append(
            f"<tr><td>{html.escape(r.forecaster)}</td><td>{r.n}</td><td>{r.crps:.3f}</td>"
            f"{cov}<td>{d or 'reference'}</td></tr>"
        )
    return "\n".join([*lines, "</table>"])


def section_html(path: Path, meta: dict) -> str:
    """The HTML section of one evaluation directory (figures embedded)."""
    summary = pd.read_parquet(path / "summary.parquet")
    paired = pd.read_parquet(path / "paired.parquet")
    caption = caption_of(meta)
    body = [
        f"<h2>Rolling-origin evaluation: {html.escape(str(meta.get('evaluation_name')))}</h2>",
        f"<p>{html.escape(caption)}. CRPS is negatively oriented (lower is better); a "
        "negative difference means the forecaster beats the reference on the same forecasts."
        "</p>",
        table_html(summary, paired),
    ]
    for stem, ax in figure_set(path):
        body.append(figures.figure_html(stem, ax, caption))
    return "\n".join(body)


def caption_of(meta: dict) -> str:
    """Say what an evaluation figure shows: file, origins, horizons, data, seed."""
    return (
        f"evaluation {meta.get('evaluation_name')}, origins {meta.get('origins')}, horizons "
        f"{meta.get('horizons')}, data to {meta.get('last_year')}, seed {meta.get('seed')}, "
        f"reference {meta.get('reference')}"
    )
