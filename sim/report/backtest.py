"""Figures and the HTML section of a backtest results directory (`sim backtest`).

A backtest directory holds ``events.parquet`` (one row per scored event: forecast, observed,
baselines, scores, whether the drivers decide it) and ``scores.parquet`` (mean scores per
subset of events and period with bootstrap intervals).
The figures take those tables and an optional ``ax`` and return the axes.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report import figures

PERIOD_TITLES = {"calibration": "calibration period (to 2019)", "after": "after 2019"}
BINS = np.linspace(0.0, 1.0, 6)


def reliability(table: pd.DataFrame, ax=None, title: str = ""):
    """Reliability diagram of binary forecasts: observed frequency against mean forecast
    probability per bin (width 0.2), each bin labelled with its number of events.
    """
    ax = figures._axes(ax)
    binary = table[table.type == "binary"]
    p, y = binary.forecast.to_numpy(float), binary.observed.to_numpy(float)
    which = np.clip(np.digitize(p, BINS[1:-1]), 0, len(BINS) - 2)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect reliability")
    xs, ys, ns = [], [], []
    for b in range(len(BINS) - 1):
        hit = which == b
        if hit.any():
            xs.append(p[hit].mean())
            ys.append(y[hit].mean())
            ns.append(int(hit.sum()))
    ax.plot(xs, ys, marker="o", color="C0", label="model")
    for x, v, n in zip(xs, ys, ns, strict=True):
        ax.annotate(f"{n}", (x, v), textcoords="offset points", xytext=(6, -10), fontsize=8)
    ax.scatter(p, y, marker="|", color="C3", alpha=0.6, label="events (forecast, outcome)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("forecast probability (model)")
    ax.set_ylabel("observed frequency")
    ax.set_title(title or "Reliability")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def event_forecasts(table: pd.DataFrame, ax=None, title: str = ""):
    """Each binary event's forecast probability beside what happened, with the baselines."""
    ax = figures._axes(ax)
    binary = table[table.type == "binary"].iloc[::-1]
    y = np.arange(len(binary))
    ax.scatter(binary.forecast, y, color="C0", zorder=3, label="model")
    ax.scatter(binary.base_rate, y, color="C2", marker="x", label="base rate")
    ax.scatter(binary.persistence, y, color="grey", marker="s", s=12, label="persistence")
    ax.scatter(binary.observed, y, facecolors="none", edgecolors="C3", s=80, label="observed")
    ax.axvline(0.5, color="grey", lw=0.5)
    ax.set_yticks(y, binary.event, fontsize=7)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("probability (observed: 0 no, 1 yes)")
    ax.set_title(title or "Forecasts per event")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small")
    return ax


def figure_set(table: pd.DataFrame):
    """(file stem, axes) of every backtest figure: reliability and per-event forecasts, one
    figure per period.
    """
    from matplotlib.figure import Figure

    for period, words in PERIOD_TITLES.items():
        part = table[table.period == period]
        if not (part.type == "binary").any():
            continue
        ax = reliability(part, title=f"Reliability, {words}")
        yield f"reliability_{period}", ax
        height = 1.5 + 0.25 * int((part.type == "binary").sum())
        ax = Figure(figsize=(7, height), layout="constrained").subplots()
        yield f"events_{period}", event_forecasts(part, ax, title=f"Forecasts per event, {words}")


def write_figures(table: pd.DataFrame, folder: Path, caption: str) -> list[Path]:
    """Save every backtest figure as PNG and SVG into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for stem, ax in figure_set(table):
        out += figures.save(ax, folder / stem, caption)
    return out


def _fmt(x: float) -> str:
    return "" if pd.isna(x) else f"{x:.3f}"


def skill_table_html(summary: pd.DataFrame) -> str:
    """The model against the best baseline on the informative events, as an HTML table."""
    from sim.validation.backtest.backtest import skill

    lines = [
        "<table class='num'><tr><th>period</th><th>score</th><th>events</th><th>model</th>"
        "<th>best baseline</th><th>its score</th><th>model minus it [95% bootstrap]</th></tr>"
    ]
    for r in skill(summary).itertuples():
        lines.append(
            f"<tr><td>{r.period}</td><td>{r.score}</td><td>{r.events}</td><td>{_fmt(r.model)}"
            f"</td><td>{html.escape(r.best_baseline)}</td><td>{_fmt(r.baseline)}</td>"
            f"<td>{r.model_minus:+.3f} [{r.low95:+.3f}, {r.high95:+.3f}]</td></tr>"
        )
    return "\n".join([*lines, "</table>"])


def score_table_html(summary: pd.DataFrame) -> str:
    """The summary as an HTML table: mean scores and model-minus-baseline intervals."""
    head = (
        "<table class='num'><tr><th>events scored</th><th>period</th><th>score</th>"
        "<th>events</th><th>forecaster</th><th>mean score</th>"
        "<th>model minus it [95% bootstrap]</th></tr>"
    )
    lines = [head]
    for r in summary.itertuples():
        diff = "" if pd.isna(r.model_minus) else (
            f"{r.model_minus:+.3f} [{r.low95:+.3f}, {r.high95:+.3f}]"
        )  # fmt: skip
        lines.append(
            f"<tr><td>{getattr(r, 'subset', 'all')}</td><td>{r.period}</td><td>{r.score}</td>"
            f"<td>{r.events}</td><td>{html.escape(r.forecaster)}</td><td>{_fmt(r.mean)}</td><td>{diff}</td></tr>"
        )
    return "\n".join([*lines, "</table>"])


def event_table_html(table: pd.DataFrame) -> str:
    """Every scored event: observed, forecast, baselines and the model's score."""
    lines = [
        "<table class='num'><tr><th>event</th><th>period</th><th>window</th><th>observed</th>"
        "<th>model</th><th>base rate</th><th>persistence</th><th>decided by</th>"
        "<th>model's score</th></tr>"
    ]
    for r in table.itertuples():
        score = f"Brier {r.brier_model:.3f}" if r.type == "binary" else f"CRPS {r.crps_model:.3f}"
        lines.append(
            f"<tr><td title='{html.escape(r.label)}'>{html.escape(r.event)}</td>"
            f"<td>{r.period}</td><td>{r.window}</td><td>{r.observed:g}</td>"
            f"<td>{r.forecast:.3f}</td><td>{r.base_rate:.3f}</td><td>{r.persistence:.3g}</td>"
            f"<td>{getattr(r, 'decided_by', '')}</td><td>{score}</td></tr>"
        )
    return "\n".join([*lines, "</table>"])


def section_html(path: Path, meta: dict) -> str:
    """The HTML section of one backtest results directory (figures embedded)."""
    table = pd.read_parquet(path / "events.parquet")
    summary = pd.read_parquet(path / "scores.parquet")
    caption = caption_of(meta)
    body = [
        f"<h2>Backtest: {html.escape(str(meta.get('events_name', path.name)))}</h2>",
        f"<p>{html.escape(caption)}. Scores are negatively oriented (lower is better); a "
        "negative difference means the model beats that baseline.</p>",
        score_table_html(summary),
    ]
    if "subset" in summary:
        body += [
            "<h3>Skill on the informative events</h3>",
            "<p>Events the drivers decide (the model's runs agree on one value and the same "
            "runs without regime changes do not) left out; the model against the best "
            "baseline on the rest.</p>",
            skill_table_html(summary),
        ]
    body += [
        "<h3>Events</h3>",
        event_table_html(table),
    ]
    for stem, ax in figure_set(table):
        body.append(figures.figure_html(stem, ax, caption))
    return "\n".join(body)


def caption_of(meta: dict) -> str:
    """Say what a backtest figure shows: events, scenario, runs, seed, parameter source."""
    return (
        f"events {meta.get('events_name')}, scenario {meta.get('scenario_name')}, "
        f"{meta.get('replicates')} runs, seed {meta.get('seed')}, parameters: "
        f"{meta.get('parameters')}"
    )
