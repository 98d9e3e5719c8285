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


def date_axis(ax, months: int, start: str) -> None:
    """Label a month axis (0..months) with calendar years when the scenario has a start."""
    if not start:
        return
    from sim.scenario import calendar

    ticks = [m for m in range(months + 1) if calendar.date_of(m, start).endswith("-01")]
    step = max(1, len(ticks) // 10)
    ticks = ticks[::step]
    ax.set_xticks(ticks, [calendar.date_of(m, start)[:4] for m in ticks])
    ax.set_xlabel(f"year (month 1 = {start})")


def fan_chart(
    series: np.ndarray,
    ax=None,
    label: str = "",
    color: str = "C0",
    title: str = "",
    start: str = "",
):
    """Median with 50% and 90% bands of a (runs, months) array over the months; with a
    scenario ``start`` ("YYYY-MM") the axis shows calendar years.
    """
    ax = _axes(ax)
    months = np.arange(series.shape[1])
    q = np.nanquantile(series, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(months, q[0], q[4], color=color, alpha=0.15, label=f"{label} 90% band".strip())
    ax.fill_between(months, q[1], q[3], color=color, alpha=0.35, label=f"{label} 50% band".strip())
    ax.plot(months, q[2], color=color, lw=2, label=f"{label} median".strip())
    ax.set_xlabel("month")
    date_axis(ax, series.shape[1] - 1, start)
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


def _caption(fig, caption: str) -> None:
    if caption and not getattr(fig, "_sim_captioned", False):
        fig.text(0.01, -0.01, caption, fontsize=7, color="dimgray", ha="left", va="top")
        fig._sim_captioned = True


FORMATS = ("png", "svg")  # the files `save` writes for each figure


def save(ax, path: Path, caption: str = "") -> list[Path]:
    """Save the axes' figure as PNG and SVG, with an optional caption under it."""
    fig = ax.figure
    _caption(fig, caption)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in FORMATS:
        target = path.with_suffix(f".{ext}")
        fig.savefig(target, dpi=110, bbox_inches="tight")
        out.append(target)
    return out


def png_bytes(ax, caption: str = "") -> bytes:
    """Render the axes' figure as PNG bytes for a report, with the caption under it."""
    import io

    fig = ax.figure
    _caption(fig, caption)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def figure_html(stem: str, ax, caption: str) -> str:
    """A report ``<figure>``: the axes as an inline PNG, with the caption under it."""
    import base64
    import html

    data = base64.b64encode(png_bytes(ax, caption)).decode("ascii")
    return (
        f"<figure id='{stem}'><img alt='{stem}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


# ---------------------------------------------------------------------------------------------
# Comparisons of scenarios (one entry per scenario, overlaid)


def fan_overlay(
    series: dict[str, np.ndarray],
    ax=None,
    title: str = "",
    ylabel: str = "alignment (index)",
    start: str = "",
):
    """Median with 50% and 90% bands of (runs, months) arrays, one colour per scenario.

    The first scenario is the reference (the baseline of a comparison): its median is drawn
    last, on top, with a white outline, so the others' bands never hide it. With more than two
    scenarios only the 50% bands are drawn, as 90% bands of many would cover one another.
    """
    from matplotlib import patheffects

    ax = _axes(ax)
    wide = len(series) <= 2
    items = list(series.items())
    for k, (label, values) in reversed(list(enumerate(items))):
        color = f"C{k}"
        months = np.arange(values.shape[1])
        q = np.nanquantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        if wide:
            ax.fill_between(months, q[0], q[4], color=color, alpha=0.12, lw=0)
        ax.fill_between(months, q[1], q[3], color=color, alpha=0.3 if wide else 0.18, lw=0)
        bands = "50%/90% bands" if wide else "50% band"
        ax.plot(
            months,
            q[2],
            color=color,
            lw=2.5 if k == 0 else 2,
            zorder=5 if k == 0 else 3,
            label=f"{label} (median, {bands})",
            path_effects=[patheffects.withStroke(linewidth=4, foreground="white")]
            if k == 0
            else None,
        )
    handles, labels = ax.get_legend_handles_labels()  # legend in the scenarios' order
    order = sorted(
        range(len(labels)),
        key=lambda i: [lab for lab, _ in items].index(labels[i].rsplit(" (median", 1)[0]),
    )
    ax.legend(
        [handles[i] for i in order], [labels[i] for i in order], loc="lower left", fontsize="small"
    )
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("month")
    date_axis(ax, max(v.shape[1] for v in series.values()) - 1, start)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def ecdf(values: dict[str, pd.Series], ax=None, xlabel: str = "", title: str = ""):
    """Empirical cumulative distribution of a scalar outcome, one line per scenario."""
    ax = _axes(ax)
    for k, (label, v) in enumerate(values.items()):
        x = np.sort(pd.to_numeric(v, errors="coerce").dropna().to_numpy(dtype=float))
        if len(x):
            y = np.arange(1, len(x) + 1) / len(x)
            ax.step(x, y, where="post", color=f"C{k}", label=f"{label} (n={len(x)})")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of runs at or below")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def survival(
    curves: dict[str, pd.DataFrame],
    ax=None,
    title: str = "",
    window: int = 12,
    min_at_risk: int = 10,
):
    """Kaplan-Meier curves of "no event yet" with the monthly hazard on a second axis.

    Each table is :func:`sim.analysis.survival`'s output. The hazard is shown as a
    ``window``-month pooled rate (events over run-months at risk; dashed, right axis), left
    out where fewer than ``min_at_risk`` runs remain at risk.
    """
    ax = _axes(ax)
    right = ax.twinx()
    drawn: list[tuple] = []
    for k, (label, km) in enumerate(curves.items()):
        color = f"C{k}"
        events = int(km.events.sum())
        # Curves that coincide (e.g. flat at 1 when nothing happened) would hide one another:
        # the legend says how many events each has and names the curve it lies under.
        key = (tuple(km.month), tuple(np.round(km.survival, 6)))
        under = next((lab for other, lab in drawn if other == key), None)
        drawn.append((key, label))
        note = f"{events} events" if events else "no event: flat at 1"
        if under is not None:
            note += f"; hidden under {under}"
        ax.step(
            km.month,
            km.survival,
            where="post",
            color=color,
            lw=2,
            ls="-" if under is None else (0, (2, 2)),
            label=f"{label} ({note})",
        )
        ax.fill_between(km.month, km.low, km.high, step="post", color=color, alpha=0.15, lw=0)
        pooled = km.events.iloc[1:].rolling(window, min_periods=1).sum()
        exposed = km.at_risk.iloc[1:].rolling(window, min_periods=1).sum()
        hazard = (pooled / exposed).where(km.at_risk.iloc[1:] >= min_at_risk)
        right.plot(km.month.iloc[1:], hazard, color=color, ls="--", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("month")
    ax.set_ylabel("P(no event yet) (Kaplan-Meier, 95% band)")
    right.set_ylabel(f"monthly hazard (dashed; {window}-month pooled)")
    right.set_ylim(bottom=0)
    ax.set_title(title)
    ax.plot([], [], color="grey", ls="--", label="monthly hazard")
    ax.legend(loc="lower left", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------------------
# Sweeps


def heatmap(table: pd.DataFrame, ax=None, title: str = "", label: str = "probability"):
    """Show a probability over two binned parameters (:func:`sim.analysis.probability_grid`)."""
    ax = _axes(ax)
    data = table.to_numpy(dtype=float)
    image = ax.imshow(data, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(data.shape[1]), [f"{v:.3g}" for v in table.columns], fontsize=7)
    ax.set_yticks(range(data.shape[0]), [f"{v:.3g}" for v in table.index], fontsize=7)
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v < 0.5 else "black",
            )
    ax.set_xlabel(f"{table.columns.name} (bin midpoint)")
    ax.set_ylabel(f"{table.index.name} (bin midpoint)")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.plot([], [], " ", label="other parameters marginalised")
    # Below the axes (under the x label), never over the cells' values.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="x-small", handlelength=0)
    return ax


def sobol_bars(indices: pd.DataFrame, ax=None, title: str = ""):
    """First-order (S1) and total-order (ST) Sobol indices with 95% confidence bars."""
    ax = _axes(ax)
    x = np.arange(len(indices))
    w = 0.38
    ax.bar(x - w / 2, indices.S1, w, yerr=indices.S1_conf, capsize=3, label="first order S1")
    ax.bar(x + w / 2, indices.ST, w, yerr=indices.ST_conf, capsize=3, label="total order ST")
    ax.set_xticks(x, list(indices.index), rotation=30, ha="right", fontsize=7)
    ax.set_xlabel("parameter")
    ax.set_ylabel("share of output variance")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def morris_scatter(indices: pd.DataFrame, ax=None, title: str = "", unit: str = ""):
    """Morris screening: mean absolute elementary effect mu* against its spread sigma."""
    ax = _axes(ax)
    ax.errorbar(
        indices.mu_star,
        indices.sigma,
        xerr=indices.mu_star_conf,
        fmt="o",
        capsize=3,
        label="parameter (mu* with 95% interval)",
    )
    for name, row in indices.iterrows():
        ax.annotate(
            str(name),
            (row.mu_star, row.sigma),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    top = float(np.nanmax(np.r_[indices.mu_star, indices.sigma, 1e-9]))
    ax.plot([0, top], [0, top], color="grey", lw=0.5, ls=":", label="sigma = mu*")
    suffix = f" ({unit})" if unit else ""
    ax.set_xlabel(f"mu*: mean |elementary effect|{suffix}")
    ax.set_ylabel(f"sigma: spread of effects{suffix}")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def tradeoff(trajectory: pd.DataFrame, chosen: int, ax=None, title: str = "", density=None):
    """PRIM's peeling and pasting trajectory: coverage against density, coloured by the number
    of restricted parameters; the chosen box and the density target are marked.
    """
    ax = _axes(ax)
    points = ax.scatter(
        trajectory.coverage,
        trajectory.density,
        c=trajectory.res_dim,
        cmap="viridis",
        s=18,
        label="box after each peel or paste",
    )
    row = trajectory.iloc[chosen]
    ax.scatter(
        [row.coverage],
        [row.density],
        s=120,
        facecolors="none",
        edgecolors="C3",
        lw=2,
        label=f"chosen box (step {chosen})",
    )
    if density is not None:
        ax.axhline(density, color="C3", ls=":", lw=1, label=f"density target {density:.0%}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.figure.colorbar(points, ax=ax, label="restricted parameters")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower left", fontsize="small")
    return ax


def feature_scores(scores: pd.Series, ax=None, title: str = ""):
    """Feature scores of the parameters (largest on top)."""
    ax = _axes(ax)
    s = scores.iloc[::-1]
    ax.barh(range(len(s)), s.to_numpy(), color="C0", label="extra-trees feature score")
    ax.set_yticks(range(len(s)), list(s.index), fontsize=7)
    ax.set_xlabel("feature score (sums to 1)")
    ax.set_ylabel("parameter")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize="x-small", loc="lower right")
    return ax


# ---------------------------------------------------------------------------------------------
# Explanations


def waterfall(
    steps: list[tuple[str, float]], ax=None, title: str = "", start: str = "", end: str = ""
):
    """A horizontal waterfall: from 0 (``start``) each named step moves the running total;
    the last bar (``end``) is the total. Gains are green, losses red.
    """
    ax = _axes(ax)
    y = np.arange(len(steps) + 2)[::-1]
    running = 0.0
    ax.barh(y[0], 0.0, color="grey")
    for k, (_, v) in enumerate(steps, start=1):
        left = running if v >= 0 else running + v
        ax.barh(y[k], abs(v), left=left, color="C2" if v >= 0 else "C3", height=0.6)
        ax.text(
            running + v,
            y[k],
            f" {v:+.3f} ",
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=7,
        )
        running += v
    ax.barh(y[-1], running, color="C0", height=0.6)
    ax.text(
        running,
        y[-1],
        f" {running:+.3f} ",
        va="center",
        ha="left" if running >= 0 else "right",
        fontsize=7,
    )
    ax.set_yticks(y, [start, *(name for name, _ in steps), end], fontsize=7)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("expected utility relative to the alternative")
    ax.set_ylabel("term")
    ax.set_title(title, fontsize=9)
    ax.bar(0, 0, color="C2", label="pulls toward the choice")
    ax.bar(0, 0, color="C3", label="pulls away from it")
    ax.bar(0, 0, color="C0", label="net advantage")
    ax.legend(fontsize="x-small", loc="lower right")
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo))
    return ax


def term_bars(table: pd.DataFrame, ax=None, title: str = ""):
    """Mean advantage by term (rows of ``table``) of each chosen action (columns), as grouped
    horizontal bars: what pulled each choice above its best alternative, on average.
    """
    ax = _axes(ax)
    k = table.shape[1]
    h = 0.8 / max(k, 1)
    y = np.arange(len(table))[::-1]
    for c, col in enumerate(table.columns):
        ax.barh(y + (k / 2 - c - 0.5) * h, table[col], height=h, color=f"C{c}", label=str(col))
    ax.set_yticks(y, list(table.index), fontsize=7)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("mean utility advantage over the best alternative")
    ax.set_ylabel("term")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize="x-small", title="action chosen", title_fontsize="x-small")
    return ax


def paired_fan(
    differences: np.ndarray, ax=None, title: str = "", start: str = "", at: int | None = None
):
    """Run-by-run differences over months 0..T (what-if minus baseline, (runs, T + 1)): the
    mean with the 50% and 90% bands of the runs, and the intervention month marked.
    """
    ax = _axes(ax)
    months = np.arange(differences.shape[1])
    q = np.nanquantile(differences, [0.05, 0.25, 0.75, 0.95], axis=0)
    ax.fill_between(months, q[0], q[3], color="C1", alpha=0.15, lw=0, label="90% of runs")
    ax.fill_between(months, q[1], q[2], color="C1", alpha=0.35, lw=0, label="50% of runs")
    ax.plot(months, np.nanmean(differences, axis=0), color="C1", lw=2, label="mean difference")
    if at is not None:
        ax.axvline(at, color="k", ls=":", lw=1, label="intervention")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("month")
    date_axis(ax, differences.shape[1] - 1, start)
    ax.set_ylabel("what-if minus baseline, same run")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower left", fontsize="small")
    return ax


def responses(shares: dict[str, pd.DataFrame], ax=None, title: str = "", xlabel: str = ""):
    """Shares of runs by the victim's response after a defection, one bar colour per
    scenario, with 95% interval whiskers. Each table is indexed by action with ``value``,
    ``low``, ``high``.
    """
    ax = _axes(ax)
    actions = list(dict.fromkeys(a for t in shares.values() for a in t.index))
    k = len(shares)
    w = 0.8 / max(k, 1)
    x = np.arange(len(actions))
    for c, (label, t) in enumerate(shares.items()):
        t = t.reindex(actions)
        err = np.vstack([t.value - t.low, t.high - t.value]).clip(min=0)
        ax.bar(
            x + (c - (k - 1) / 2) * w,
            t.value.fillna(0),
            w,
            yerr=np.nan_to_num(err),
            capsize=3,
            color=f"C{c}",
            label=label,
        )
    ax.set_xticks(x, actions, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of runs with one (95% interval)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
