"""A self-contained HTML report for one or more results directories.

The page opens with a generated narrative (`sim.report.narrative`): what was run, the headline
answers with their intervals, what drives them and what would change them. A table of contents
follows, then the headline numbers of every results directory side by side
(`sim.analysis.summary`) and the figure panels (`sim.report.gallery`), each with its caption
once. Where a chart would be empty or misleading the panel is a note that says why. Figures
are embedded as PNG (base64), so the page opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from sim import analysis
from sim import results as store
from sim.analysis import findings as fnd
from sim.analysis.spread import lookup as spread_lookup
from sim.analysis.statistics import Results
from sim.report import backtest, figures, narrative, skill
from sim.report.gallery import (
    MAX_HEATMAP_PARAMETERS,
    SENSITIVITY_OUTCOMES,
    Panel,
    caption,
    panels,
    safe,
    scalars,
)
from sim.report.kinds import KINDS

# Served by `sim.report` (the panels' names stay importable from there).
__all__ = [
    "KINDS",
    "MAX_HEATMAP_PARAMETERS",
    "scalars",
    "SECTIONS",
    "SENSITIVITY_OUTCOMES",
    "STYLE",
    "Panel",
    "caption",
    "headline_table",
    "panels",
    "render",
    "safe",
    "write",
]


def headline_table(findings: list[fnd.Finding]) -> pd.DataFrame:
    """The headline numbers of every results directory side by side: one row per statistic
    (`sim.analysis.summary.summarise`), one column per results directory, each cell the value
    with its 95% interval where it is a share of runs.
    """
    cells: dict[str, dict[str, str]] = {}
    notes: dict[str, str] = {}
    for f in findings:
        for r in f.summary.itertuples(index=False):
            cell, note = _cell(r), r.note.split(" (")[0]
            if getattr(r, "flag", ""):  # not a finding: the reason leads, the number follows
                cell, note = f"{r.flag} ({cell})", r.note.rsplit(" (", 1)[0]
            over = spread_lookup(f.results.spread, r.outcome, r.key)
            if over is not None:  # the spread over parameter settings, beside the seed noise
                cell += f"; parameters: {over['p10']:.1%} to {over['p90']:.1%}"
            if "; median date " in note:  # each results directory's own date goes in its cell
                note, date = note.split("; median date ")
                cell += f" ({date})"
            cells.setdefault(r.statistic, {})[f.label] = cell
            notes.setdefault(r.statistic, note)
    table = pd.DataFrame.from_dict(cells, orient="index")
    table = table.reindex(columns=[f.label for f in findings]).fillna("")
    table.insert(len(table.columns), "what it means", pd.Series(notes))
    table.index.name = "statistic"
    return table


def _cell(r) -> str:
    v = r.value
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if r.low95 is not None and not (isinstance(r.low95, float) and math.isnan(r.low95)):
        return f"{v:.1%} [{r.low95:.1%}, {r.high95:.1%}]"
    if float(v).is_integer():
        return f"{int(v)}"
    return f"{v:.2f}"


def _headline_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["statistic", *table.columns])
    lines = [f"<table class='num'><tr>{head}</tr>"]
    for stat, row in table.iterrows():
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in [stat, *row.to_list()])
        lines.append(f"<tr>{cells}</tr>")
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
section.summary p{line-height:1.45} nav ol{columns:2} p.note{color:#8a4b00}
p.caption{color:#555;font-size:85%}
"""

SECTIONS = {
    "fan": "Alignment over time (median, 50% and 90% bands)",
    "distributions": "Distributions of the outcomes",
    "survival": "Time to the event (Kaplan-Meier, censored at the horizon)",
    "response": "The victim's response after a defection",
    "sensitivity": "Which parameters matter (global sensitivity)",
    "heatmap": "Probabilities over pairs of parameters",
    "levers": "What would it take: levers (feature scores and PRIM regions)",
}


def _covers(results: list[Results]) -> str:
    """What the intervals cover beyond sampling: the posteriors the runs drew from, if any."""
    notes = sorted({(r.meta.get("posterior") or {}).get("note") for r in results} - {None})
    return "; ".join(notes) if notes else "not for model uncertainty"


def calibration_html(path: str | Path) -> str:
    """A section on a calibration: what it covers, its fit and its posterior figures."""
    from sim.validation.calibration.posterior import NOTE, read_metadata

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


def _narrative_html(paragraphs: list[narrative.Paragraph]) -> str:
    return "\n".join(
        f"<p><b>{html.escape(head)}.</b> " + " ".join(html.escape(s) for s in sentences) + "</p>"
        for head, sentences in paragraphs
    )


def _panel_html(panel: Panel, with_caption: bool = True) -> str:
    title = f"<h3>{html.escape(panel.title)}</h3>" if panel.title and panel.ax is None else ""
    if panel.ax is None:
        return f"<figure id='{html.escape(panel.name)}'>{title}{panel.note}</figure>"
    # The caption is written once, as text, not also drawn into the image.
    data = base64.b64encode(figures.png_bytes(panel.ax)).decode("ascii")
    cap = f"<figcaption>{html.escape(panel.caption)}</figcaption>" if with_caption else ""
    return (
        f"<figure id='{html.escape(panel.name)}'><img alt='{html.escape(panel.name)}' "
        f"src='data:image/png;base64,{data}'>{cap}{panel.note}</figure>"
    )


def _section_html(group: list[Panel]) -> list[str]:
    """A section's panels; a caption shared by all its figures is written once, on top."""
    caps = {p.caption for p in group if p.ax is not None}
    if len(caps) == 1 and sum(p.ax is not None for p in group) > 1:
        shared = f"<p class='caption'>Figures in this section: {html.escape(caps.pop())}</p>"
        return [shared, *(_panel_html(p, with_caption=False) for p in group)]
    return [_panel_html(p) for p in group]


def render(
    results: list[Results],
    title: str | None = None,
    kinds: list[str] | None = None,
    cases: list[str] | None = None,
    density: float | None = None,
    progress: Callable[[str, int, int], object] | None = None,
    backtests: Sequence[tuple[Path, dict]] = (),
    posterior: str | Path | None = None,
    games: Sequence[tuple[Path, dict]] = (),
) -> str:
    """Render the report as one self-contained HTML page.

    ``cases`` and ``density`` set the lever analysis of sweeps
    (`sim.analysis.findings.gather`); ``progress("drawing figures", done, total)`` is called
    after each section's figures; ``backtests`` are (directory, metadata) pairs of
    `sim backtest` results, each adding its scores and figures; ``posterior`` (a calibration
    directory) adds a section on the calibration's fit; ``games`` are (directory, metadata)
    pairs of `sim game` results, each adding its section (`sim.report.game`).
    """
    chosen = list(kinds or KINDS)
    found = fnd.gather(results, cases, density, lever_analysis="levers" in chosen)
    labels = [f.label for f in found] + [str(m.get("events_name", p.name)) for p, m in backtests]
    labels += [str(m.get("scenario_name", p.name)) for p, m in games]
    kind = "Scenario report: " if results else "Backtest report: " if backtests else "Game: "
    title = title or kind + " vs ".join(labels)
    sections: list[tuple[str, str, list[str]]] = []
    if results:
        sections += [
            ("run", "What was run", [_meta_html(results)]),
            (
                "headline",
                "Headline numbers",
                [
                    "<p>Shares of runs with 95% Wilson intervals (the simulation's sampling "
                    f"error; {html.escape(_covers(results))}), medians and means over runs. "
                    "'parameters: A to B' is the middle 80% of the share over parameter "
                    "settings drawn from the evidence ranges or a posterior (`sim run "
                    "--parameter-draws`): what is not known about the model's numbers. "
                    "For a sweep the shares are pooled over all design points, i.e. averaged "
                    "over the swept ranges.</p>",
                    _headline_html(headline_table(found)),
                ],
            ),
        ]
    if posterior is not None:
        sections.append(("calibration", "Calibration", [calibration_html(posterior)]))
    groups: dict[str, list[Panel]] = {}
    for panel in panels(results, chosen, found) if results else ():
        groups.setdefault(panel.kind, []).append(panel)
    total = sum(len(g) for g in groups.values())
    done = 0
    for key, group in groups.items():
        sections.append((key, SECTIONS[key], _section_html(group)))
        done += len(group)
        if progress:
            progress("drawing figures", done, total)
    for k, (path, meta) in enumerate(backtests):
        if meta.get("kind") == "evaluation":  # `sim evaluate`: rolling-origin skill
            sections.append((f"skill{k}", "Skill", [skill.section_html(Path(path), meta)]))
            continue
        sections.append((f"backtest{k}", "Backtest", [backtest.section_html(Path(path), meta)]))
    for k, (path, meta) in enumerate(games):  # `sim game` directories: sim.report.game
        from sim.report import game

        sections.append((f"game{k}", "Game", [game.section_html(Path(path), meta)]))
    toc = "".join(f"<li><a href='#{key}'>{html.escape(head)}</a></li>" for key, head, _ in sections)
    body = [f"<h1>{html.escape(title)}</h1>"]
    if results:
        body += [
            "<section class='summary' id='summary'><h2>Summary</h2>",
            _narrative_html(narrative.narrative(found)),
            "</section>",
            f"<nav><h2>Contents</h2><ol><li><a href='#summary'>Summary</a></li>{toc}</ol></nav>",
        ]
    else:
        body.append(f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>")
    for key, head, parts in sections:
        body.append(f"<section id='{key}'><h2>{html.escape(head)}</h2>")
        body += parts
        body.append("</section>")
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write(
    paths: list[str | Path],
    out: str | Path,
    title: str | None = None,
    posterior: str | Path | None = None,
    *,
    cases: list[str] | None = None,
    density: float | None = None,
    force: bool = False,
    progress: Callable[[str, int, int], object] | None = None,
) -> Path:
    """Load results directories (runs, sweeps, backtests) and write the HTML report to ``out``
    (with a section on the calibration directory ``posterior`` when given; ``cases`` and
    ``density`` set the lever analysis of sweeps).

    An existing ``out`` is replaced only with ``force`` (and only if it is a file), the rule
    every command follows. ``progress(stage, done, total)`` is called after each directory is
    loaded (stage "loading results") and each figure drawn (stage "drawing figures").
    """
    out = Path(out)
    store.check_file(out, force, "--out")
    metas = [(Path(p), store.read_metadata(p)) for p in paths]
    scored = ("backtest", "evaluation")
    backtests = [(p, m) for p, m in metas if m.get("kind") in scored]
    games = [(p, m) for p, m in metas if m.get("kind") == "game"]
    runs = [p for p, m in metas if m.get("kind") not in (*scored, "game")]
    results = []
    for k, p in enumerate(runs, 1):
        results.append(analysis.load(p))
        if progress:
            progress("loading results", k, len(runs))
    out.parent.mkdir(parents=True, exist_ok=True)
    report = render(
        results,
        title,
        cases=cases,
        density=density,
        progress=progress,
        backtests=backtests,
        posterior=posterior,
        games=games,
    )
    store.write_text(report, out)
    return out
