"""Figure sets and a self-contained HTML report for one or more results directories.

:func:`panels` turns loaded results into captioned figures (one :class:`Panel` each), used by
both ``sim plot`` (files) and ``sim report`` (one HTML page with the PNGs embedded as base64,
so it opens offline and can be mailed as one file). Several results are compared side by side:
run-level figures overlay the scenarios; sweep figures are drawn per sweep.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import analysis
from sim import results as store
from sim.analysis import Results, discovery
from sim.report import backtest, figures
from sim.report.kinds import KINDS

SCALARS = ("alignment_final", "alignment_mean", "hedging_final", "hedging_mean", "betrayal_month")
SENSITIVITY_OUTCOMES = ("betrayal", "partnership", "alignment_final")
MAX_HEATMAP_PARAMETERS = 3


def safe(name: str) -> str:
    """Make a file-safe figure name (dotted parameter names become dashed)."""
    return re.sub(r"[^A-Za-z0-9_\-]+", "-", name)


@dataclass
class Panel:
    """One captioned figure: a file-safe name, its kind, the axes and a note shown beside it."""

    name: str
    kind: str
    ax: object
    caption: str
    note: str = ""  # HTML


def caption(results: list[Results], labels: list[str]) -> str:
    """Say which scenarios, how many runs and which seeds a figure shows."""
    parts = [
        f"{lab}: {len(r.runs)} runs, seed {r.meta.get('seed')}"
        + (
            f", {r.meta.get('design')} sweep of {r.meta.get('points')} points"
            if r.kind == "sweep"
            else ""
        )
        for r, lab in zip(results, labels, strict=True)
    ]
    return "scenario " + "; ".join(parts)


def _describe(r: Results, outcome: str) -> str:
    text = next((o["description"] for o in r.outcomes if o.get("name") == outcome), outcome)
    unit = r.unit(outcome)
    return f"{text} ({unit})" if unit else text


def _pair_label(r: Results, dyad: str) -> str:
    actors = list((r.meta.get("scenario") or {}).get("actors") or {})
    for a in actors:
        if dyad.startswith(f"{a}-") and dyad[len(a) + 1 :] in actors:
            return f"{r.label(a)}-{r.label(dyad[len(a) + 1 :])}"
    return dyad


def _run_panels(results: list[Results], labels: list[str], kinds: set[str]) -> Iterator[Panel]:
    first = results[0]
    cap = caption(results, labels)
    with_traj = [
        (r, lab) for r, lab in zip(results, labels, strict=True) if r.trajectories is not None
    ]
    if "fan" in kinds and with_traj:
        cap_t = caption([r for r, _ in with_traj], [lab for _, lab in with_traj])
        for dyad in analysis.dyads(with_traj[0][0].trajectories):
            col = analysis.dyad_column(dyad)
            data = {
                lab: analysis.series(r.trajectories, col)
                for r, lab in with_traj
                if col in r.trajectories
            }
            title = f"{_pair_label(first, dyad)} alignment over time"
            start = ((first.meta.get("scenario") or {}).get("scenario") or {}).get("start", "")
            ax = figures.fan_overlay(
                data, title=title, ylabel="alignment (index, -1 to 1)", start=start
            )
            yield Panel(f"fan_{dyad}", "fan", ax, cap_t)
    if "distributions" in kinds:
        for name in SCALARS:
            data = {
                lab: r.runs[name] for r, lab in zip(results, labels, strict=True) if name in r.runs
            }
            if not data or all(v.dropna().empty for v in data.values()):
                continue
            xlabel = _describe(first, name)
            title = f"Distribution of {name.replace('_', ' ')}"
            if name.endswith("_month"):
                title += " (runs with an event)"
            ax = figures.ecdf(data, xlabel=xlabel, title=title)
            yield Panel(f"ecdf_{name}", "distributions", ax, cap)
    if "survival" in kinds:
        for event in analysis.EVENTS:
            col = f"{event}_month"
            curves = {
                lab: analysis.survival(r.runs[col], r.months)
                for r, lab in zip(results, labels, strict=True)
                if col in r.runs
            }
            if not curves or (
                event != "betrayal" and all(c.events.sum() == 0 for c in curves.values())
            ):
                continue
            title = f"No {event} yet: {_describe(first, event).split(' (')[0]}"
            ax = figures.survival(curves, title=title)
            yield Panel(f"survival_{event}", "survival", ax, cap)


def _ranked(r: Results, indices: dict[str, pd.DataFrame]) -> list[str]:
    names = analysis.parameter_names(r.meta)
    idx = indices.get("betrayal")
    if idx is not None:
        key = "ST" if "ST" in idx else "mu_star"
        names = list(idx[key].sort_values(ascending=False).index)
    return names


def _sweep_panels(r: Results, label: str, kinds: set[str]) -> Iterator[Panel]:
    cap = caption([r], [label])
    names = analysis.parameter_names(r.meta)
    indices: dict[str, pd.DataFrame] = {}
    for outcome in SENSITIVITY_OUTCOMES:
        if outcome in r.runs and r.meta.get("design") in ("sobol", "morris"):
            res = analysis.sensitivity(r.runs, r.points, r.meta, outcome)
            if res is not None:
                indices[outcome] = res
    if "sensitivity" in kinds:
        for outcome, idx in indices.items():
            what = "P" if r.runs[outcome].dtype == bool else "mean"
            title = f"{label}: sensitivity of {what}({outcome}) per point"
            if "ST" in idx:
                ax = figures.sobol_bars(idx, title=f"Sobol indices — {title}")
            else:
                ax = figures.morris_scatter(idx, title=f"Morris screening — {title}")
            note = idx.to_html(float_format=lambda v: f"{v:.3f}", border=0)
            yield Panel(safe(f"{label}_sensitivity_{outcome}"), "sensitivity", ax, cap, note)
    if "heatmap" in kinds and len(names) >= 2:
        top = _ranked(r, indices)[:MAX_HEATMAP_PARAMETERS]
        for event in analysis.EVENTS:
            for x, y in itertools.combinations(top, 2):
                table = analysis.probability_grid(r.runs, x, y, event)
                ax = figures.heatmap(table, title=f"{label}: P({event})", label=f"P({event})")
                yield Panel(safe(f"{label}_heatmap_{event}_{x}_{y}"), "heatmap", ax, cap)
    if "discovery" in kinds:
        for event in analysis.EVENTS:
            hits = r.runs[event].astype(bool)
            if hits.all() or not hits.any():
                continue
            boxes, box = discovery.discover(r.runs, names, event)
            step = boxes.index(box)
            table = discovery.trajectory_table(boxes)
            ax = figures.discovery(table, step, title=f"{label}: where does {event} happen?")
            note = (
                f"<p><b>Box for {event}:</b> {html.escape(box.describe())}<br>"
                f"coverage {box.coverage:.0%}, density {box.density:.0%} "
                f"(base rate {hits.mean():.0%}), mass {box.mass:.0%}</p>"
            )
            yield Panel(safe(f"{label}_discovery_{event}"), "discovery", ax, cap, note)


def panels(results: list[Results], kinds: list[str] | None = None) -> Iterator[Panel]:
    """Yield every applicable figure for these results, comparing them where it makes sense."""
    chosen = set(kinds or KINDS)
    labels = analysis.labels_for(results)
    yield from _run_panels(results, labels, chosen)
    for r, lab in zip(results, labels, strict=True):
        if r.kind == "sweep":
            yield from _sweep_panels(r, lab, chosen)


def headline_table(results: list[Results]) -> pd.DataFrame:
    """Headline probabilities with Wilson 95% intervals, one row per results and event."""
    rows = []
    for r, lab in zip(results, analysis.labels_for(results), strict=True):
        h = analysis.headline(r.runs)
        h.insert(0, "scenario", lab)
        rows.append(h)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _headline_html(table: pd.DataFrame) -> str:
    lines = [
        "<table class='num'><tr><th>scenario</th><th>outcome</th><th>probability</th>"
        "<th>Wilson 95% interval</th><th>runs</th><th>median month (if any)</th></tr>"
    ]
    for row in table.itertuples():
        month = "" if pd.isna(row.median_month) else f"{row.median_month:.0f}"
        lines.append(
            f"<tr><td>{html.escape(row.scenario)}</td><td>P({row.event})</td>"
            f"<td>{row.p:.1%}</td><td>{row.low:.1%} – {row.high:.1%}</td>"
            f"<td>{row.runs} ({row.hits} with)</td><td>{month}</td></tr>"
        )
    return "\n".join(lines + ["</table>"])


def _meta_html(results: list[Results]) -> str:
    lines = [
        "<table><tr><th>scenario</th><th>kind</th><th>title</th><th>seed</th>"
        "<th>runs</th><th>months</th><th>overrides / design</th><th>folder</th></tr>"
    ]
    for r, lab in zip(results, analysis.labels_for(results), strict=True):
        sc = (r.meta.get("scenario") or {}).get("scenario") or {}
        extra = r.meta.get("overrides") or {}
        if r.kind == "sweep":
            extra = {
                "design": r.meta.get("design"),
                "points": r.meta.get("points"),
                "parameters": ", ".join(analysis.parameter_names(r.meta)),
            }
        cells = [
            lab,
            r.kind,
            sc.get("title", ""),
            r.meta.get("seed"),
            len(r.runs),
            r.months,
            "; ".join(f"{k}={v}" for k, v in extra.items()),
            str(r.path),
        ]
        lines.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return "\n".join(lines + ["</table>"])


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0;font-size:90%}
td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
table.num td{font-variant-numeric:tabular-nums}
figure{margin:1.5em 0;border-top:1px solid #eee;padding-top:1em}
figure img{max-width:100%} figcaption{color:#555;font-size:85%}
"""

SECTIONS = {
    "fan": "Alignment over time (median, 50% and 90% bands)",
    "distributions": "Distributions of the outcomes",
    "survival": "Time to betrayal (Kaplan-Meier, censored at the horizon)",
    "sensitivity": "Which parameters matter (global sensitivity)",
    "heatmap": "Probabilities over pairs of parameters",
    "discovery": "Scenario discovery (PRIM boxes)",
}


def _covers(results: list[Results]) -> str:
    """What the intervals cover beyond sampling: the posteriors the runs drew from, if any."""
    notes = sorted({(r.meta.get("posterior") or {}).get("note") for r in results} - {None})
    return "; ".join(notes) if notes else "not for model uncertainty"


def calibration_html(path: str | Path) -> str:
    """A section on a calibration: what it covers, its fit and its posterior figures."""
    from sim.validation.posterior import NOTE, read_metadata

    meta = read_metadata(path)
    cover = meta.get("predictive_coverage") or {}
    body = [
        "<h2>Calibration</h2>",
        f"<p>{html.escape(NOTE.format(path=path))}: scenario {html.escape(meta['scenario_name'])}"
        f", UN General Assembly data up to {meta['until']}, parameters "
        f"{html.escape(', '.join(meta['parameters_calibrated']))}. Posterior predictive "
        f"coverage of the observed points: {cover.get('50%', float('nan')):.0%} inside the 50% "
        f"bands, {cover.get('90%', float('nan')):.0%} inside the 90% bands.</p>",
    ]
    for name in ("predictive", "marginals"):
        png = Path(path) / "figures" / f"{name}.png"
        if png.is_file():
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            body.append(
                f"<figure id='calibration-{name}'><img alt='{name}' "
                f"src='data:image/png;base64,{data}'></figure>"
            )
    return "\n".join(body)


def render(
    results: list[Results],
    title: str | None = None,
    kinds: list[str] | None = None,
    progress: Callable[[str, int, int], object] | None = None,
    backtests: Sequence[tuple[Path, dict]] = (),
    posterior: str | Path | None = None,
) -> str:
    """Render the report as one self-contained HTML page.

    ``progress("drawing figures", done, total)`` is called after each figure. ``backtests``
    are (directory, metadata) pairs of `sim backtest` results; each adds its score table,
    event table and figures after the runs' sections. ``posterior`` (a calibration directory)
    adds a section on the calibration's fit.
    """
    labels = analysis.labels_for(results)
    names = labels + [str(m.get("events_name", p.name)) for p, m in backtests]
    title = title or ("Scenario report: " if results else "Backtest report: ") + " vs ".join(names)
    body = [f"<h1>{html.escape(title)}</h1>"]
    if results:
        body += _runs_html(results, kinds, progress, posterior)
    body += [backtest.section_html(Path(p), meta) for p, meta in backtests]
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _runs_html(
    results: list[Results],
    kinds: list[str] | None,
    progress: Callable[[str, int, int], object] | None = None,
    posterior: str | Path | None = None,
) -> list[str]:
    """The sections of run and sweep results: what was run, headlines and figures."""
    body = [
        "<h2>What was run</h2>",
        _meta_html(results),
        "<h2>Headline probabilities</h2>",
        "<p>Share of runs in which the event happens within the horizon, with a Wilson "
        f"95% interval for the simulation's sampling error ({html.escape(_covers(results))}). "
        "For a sweep the share is pooled over all design points.</p>",
        _headline_html(headline_table(results)),
    ]
    if posterior is not None:
        body.append(calibration_html(posterior))
    current = None
    drawn = list(panels(results, kinds))  # listed first, so that progress has a total
    for k, panel in enumerate(drawn, 1):
        if panel.kind != current:
            current = panel.kind
            body.append(f"<h2>{SECTIONS[current]}</h2>")
        data = base64.b64encode(figures.png_bytes(panel.ax, panel.caption)).decode("ascii")
        if progress:
            progress("drawing figures", k, len(drawn))
        body.append(
            f"<figure id='{html.escape(panel.name)}'><img alt='{html.escape(panel.name)}' "
            f"src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(panel.caption)}</figcaption>{panel.note}</figure>"
        )
    return body


def write(
    paths: list[str | Path],
    out: str | Path,
    title: str | None = None,
    posterior: str | Path | None = None,
    *,
    force: bool = False,
    progress: Callable[[str, int, int], object] | None = None,
) -> Path:
    """Load results directories (runs, sweeps, backtests) and write the HTML report to ``out``
    (with a section on the calibration directory ``posterior`` when given).

    An existing ``out`` is replaced only with ``force`` (and only if it is a file), the rule
    every command follows. ``progress(stage, done, total)`` is called after each directory is
    loaded (stage "loading results") and each figure drawn (stage "drawing figures").
    """
    out = Path(out)
    store.check_target(out, force, directory=False)
    metas = [(Path(p), store.read_metadata(p)) for p in paths]
    backtests = [(p, m) for p, m in metas if m.get("kind") == "backtest"]
    runs = [p for p, m in metas if m.get("kind") != "backtest"]
    results = []
    for k, p in enumerate(runs, 1):
        results.append(analysis.load(p))
        if progress:
            progress("loading results", k, len(runs))
    out.parent.mkdir(parents=True, exist_ok=True)
    report = render(results, title, progress=progress, backtests=backtests, posterior=posterior)
    store.write_text(report, out)
    return out
