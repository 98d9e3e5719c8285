"""Figure panels of results directories, shared by `sim plot` (files) and `sim report` (HTML).

A `Panel` is one captioned figure, or, where a chart would be empty or misleading (an outcome
that never varies, an event that never happens), a note that says so instead. Several results
are compared side by side: run-level figures overlay the scenarios; sweep figures are drawn per
sweep. Sensitivity indices and levers come from the findings (`sim.analysis.findings`), so the
figures show what the report's narrative says.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from sim import analysis
from sim.analysis import findings as fnd
from sim.analysis.statistics import Results
from sim.model import outcomes
from sim.report import figures
from sim.report.kinds import KINDS

SCALAR_SUFFIXES = ("_final", "_mean", "_month")  # without declarations: indices and months
SENSITIVITY_OUTCOMES = fnd.SENSITIVITY_OUTCOMES
MAX_HEATMAP_PARAMETERS = 3


def safe(name: str) -> str:
    """Make a file-safe figure name (dotted parameter names become dashed)."""
    return re.sub(r"[^A-Za-z0-9_\-]+", "-", name)


@dataclass
class Panel:
    """One captioned figure (``ax``), or a note in its place (``ax`` None): a file-safe name,
    its kind, the caption, a title and a note shown beside it (HTML).
    """

    name: str
    kind: str
    ax: object
    caption: str
    note: str = ""
    title: str = ""


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


def _note(name: str, kind: str, cap: str, text: str, title: str) -> Panel:
    return Panel(name, kind, None, cap, f"<p class='note'>{html.escape(text)}</p>", title)


def _events(fs: list[fnd.Finding]) -> list[tuple[str, str]]:
    """(outcome id, kind) of the declared events with a month: defections and partnerships."""
    seen: dict[str, str] = {}
    for f in fs:
        specs = f.scenario.outcomes if f.scenario is not None else ()
        for spec in specs:
            if outcomes.of(spec).event:
                seen.setdefault(spec.id, spec.kind)
    if not seen:
        seen = {e: "event" for f in fs for e in analysis.events_of(f.results.runs)}
    return [(k, v) for k, v in seen.items() if any(f"{k}_month" in f.results.runs for f in fs)]


def _fan(fs: list[fnd.Finding]) -> Iterator[Panel]:
    with_traj = [f for f in fs if f.results.trajectories is not None]
    if not with_traj:
        return
    first = with_traj[0].results
    cap = caption([f.results for f in with_traj], [f.label for f in with_traj])
    start = ((first.meta.get("scenario") or {}).get("scenario") or {}).get("start", "")
    for dyad in analysis.dyads(first.trajectories):
        col = analysis.dyad_column(dyad)
        data = {
            f.label: analysis.series(f.results.trajectories, col)
            for f in with_traj
            if col in f.results.trajectories
        }
        title = f"{_pair_label(first, dyad)} alignment over time"
        ax = figures.fan_overlay(
            data, title=title, ylabel="alignment (index, -1 to 1)", start=start
        )
        yield Panel(f"fan_{dyad}", "fan", ax, cap)


def scalars(fs: list[fnd.Finding]) -> list[str]:
    """The run outcomes whose distributions are drawn: the declared per-run indices and months
    (outcomes.json, in declaration order) or, where nothing is declared, the columns ending in
    `SCALAR_SUFFIXES`.
    """
    names: dict[str, None] = {}
    for f in fs:
        declared = f.results.outcomes
        if declared:
            for o in declared:
                unit = str(o.get("unit", ""))
                if o.get("kind", "scalar") == "scalar" and (
                    unit.startswith("index") or unit == "month"
                ):
                    names.setdefault(str(o["name"]), None)
        else:
            for c in f.results.runs.columns:
                if c.endswith(SCALAR_SUFFIXES):
                    names.setdefault(c, None)
    return list(names)


def _distributions(fs: list[fnd.Finding]) -> Iterator[Panel]:
    first = fs[0].results
    cap = caption([f.results for f in fs], [f.label for f in fs])
    for name in scalars(fs):
        data = {f.label: f.results.runs[name] for f in fs if name in f.results.runs}
        if not data:
            continue
        title = f"Distribution of {name.replace('_', ' ')}"
        values = pd.concat([v.dropna() for v in data.values()])
        if values.empty:
            text = f"{name}: no run has a value (the event never happened), so there is no "
            text += "distribution to draw."
            yield _note(f"ecdf_{name}", "distributions", cap, text, title)
            continue
        if values.nunique() == 1:
            text = f"{name} is {values.iloc[0]:g} in every run: it never varies, so there is no "
            text += "distribution to draw."
            yield _note(f"ecdf_{name}", "distributions", cap, text, title)
            continue
        if name.endswith("_month"):
            title += " (runs with an event)"
        ax = figures.ecdf(data, xlabel=_describe(first, name), title=title)
        yield Panel(f"ecdf_{name}", "distributions", ax, cap)


def _survival(fs: list[fnd.Finding]) -> Iterator[Panel]:
    first = fs[0].results
    cap = caption([f.results for f in fs], [f.label for f in fs])
    for event, _ in _events(fs):
        col = f"{event}_month"
        curves = {
            f.label: analysis.survival(f.results.runs[col], f.results.months)
            for f in fs
            if col in f.results.runs
        }
        title = f"No {event} yet: {_describe(first, event).split(' (')[0]}"
        if all(c.events.sum() == 0 for c in curves.values()):
            n = sum(len(f.results.runs) for f in fs if col in f.results.runs)
            text = f"No {event} in any of the {n} runs: the curve of 'no {event} yet' would be a "
            text += "flat line at 1."
            yield _note(f"survival_{event}", "survival", cap, text, title)
            continue
        ax = figures.survival(curves, title=title)
        yield Panel(f"survival_{event}", "survival", ax, cap)


def _response(fs: list[fnd.Finding]) -> Iterator[Panel]:
    cap = caption([f.results for f in fs], [f.label for f in fs])
    specs = {}
    for f in fs:
        for spec in f.scenario.outcomes if f.scenario is not None else ():
            if f"{spec.id}_response" in f.results.runs:  # a defection's victim response
                specs.setdefault(spec.id, (spec, f.scenario))
    for oid, (spec, sc) in specs.items():
        victim = sc.label(spec.fields["victim"])
        title = f"{victim}'s response after a {oid}"
        actions = [a.id for a in sc.actor(spec.fields["victim"]).actions]
        table, seen = {}, set()
        for f in fs:
            rows = f.summary[(f.summary.outcome == oid) & f.summary.key.str.startswith("response:")]
            if rows.empty:
                continue
            m = int(rows.note.iloc[0].rsplit(" of ", 1)[-1].rstrip(")"))
            shares = {r.key.removeprefix("response:"): r for r in rows.itertuples()}
            seen |= set(shares)
            zero = analysis.wilson(0, m)
            table[f"{f.label} ({m} runs with one)"] = pd.DataFrame(
                {
                    "value": [shares[a].value if a in shares else 0.0 for a in actions],
                    "low": [shares[a].low95 if a in shares else zero[1] for a in actions],
                    "high": [shares[a].high95 if a in shares else zero[2] for a in actions],
                },
                index=actions,
            )
        if not table:
            text = f"No {oid} in any run, so {victim} never had to respond."
            yield _note(f"response_{oid}", "response", cap, text, title)
            continue
        ax = figures.responses(
            table,
            title=title,
            xlabel=f"{victim}'s most frequent action in the {outcomes.RESPONSE_WINDOW} months "
            "after",
        )
        note = ""
        if len(seen) == 1:
            late = any(t.value.sum() < 1 - 1e-9 for t in table.values())
            text = (
                f"{victim} answers every {oid} the same way, '{seen.pop()}': the response never "
                "varies here"
                + (
                    " (runs whose first one came too close to the horizon show no response)."
                    if late
                    else "."
                )
            )
            note = f"<p class='note'>{html.escape(text)}</p>"
        yield Panel(f"response_{oid}", "response", ax, cap, note)


def _ranked(f: fnd.Finding) -> list[str]:
    names = analysis.parameter_names(f.results.meta)
    idx = next((f.sensitivity[o] for o in f.sensitivity if o != "alignment_final"), None)
    if idx is not None:
        key = "ST" if "ST" in idx else "mu_star"
        return list(idx[key].sort_values(ascending=False).index)
    for lever in f.levers:
        if len(lever.scores):
            return list(lever.scores.index)
    return names


def _sensitivity(f: fnd.Finding) -> Iterator[Panel]:
    r, cap = f.results, caption([f.results], [f.label])
    for outcome, idx in f.sensitivity.items():
        what = "P" if r.runs[outcome].dtype == bool else "mean"
        title = f"{f.label}: sensitivity of {what}({outcome}) per point"
        name = safe(f"{f.label}_sensitivity_{outcome}")
        if r.runs[outcome].astype(float).nunique() <= 1:
            text = f"{outcome} never varies across the sweep: there is no variance to apportion."
            yield _note(name, "sensitivity", cap, text, title)
            continue
        if "ST" in idx:
            ax = figures.sobol_bars(idx, title=f"Sobol indices — {title}")
        else:
            ax = figures.morris_scatter(idx, title=f"Morris screening — {title}")
        note = idx.to_html(float_format=lambda v: f"{v:.3f}", border=0)
        bad = fnd.sobol_out_of_range(idx) if "ST" in idx else []
        if bad:
            note = (
                "<p class='note'>"
                + html.escape(
                    "Indices outside [0, 1] (" + ", ".join(bad) + ") cannot be shares of "
                    f"variance: they are sampling error of a small sample "
                    f"({r.meta.get('points')} points). Read them as 'large' or 'negligible' "
                    "and raise the design's points before quoting them."
                )
                + "</p>"
                + note
            )
        yield Panel(name, "sensitivity", ax, cap, note)


def _heatmaps(f: fnd.Finding) -> Iterator[Panel]:
    r, cap = f.results, caption([f.results], [f.label])
    names = analysis.parameter_names(r.meta)
    if len(names) < 2:
        return
    top = _ranked(f)[:MAX_HEATMAP_PARAMETERS]
    for event, _ in _events([f]):
        if event not in r.runs:
            continue
        hits = r.runs[event].astype(bool)
        if hits.all() or not hits.any():
            what = "every" if hits.all() else "no"
            text = f"{event} happens in {what} run of the sweep: every cell would read the same."
            yield _note(safe(f"{f.label}_heatmap_{event}"), "heatmap", cap, text, f"P({event})")
            continue
        for x, y in itertools.combinations(top, 2):
            table = analysis.probability_grid(r.runs, x, y, event)
            ax = figures.heatmap(table, title=f"{f.label}: P({event})", label=f"P({event})")
            yield Panel(safe(f"{f.label}_heatmap_{event}_{x}_{y}"), "heatmap", ax, cap)


def _levers(f: fnd.Finding) -> Iterator[Panel]:
    cap = caption([f.results], [f.label])
    if f.lever_note:
        yield _note(safe(f"{f.label}_levers"), "levers", cap, f.lever_note, f"{f.label}: levers")
    for lever in f.levers:
        c = lever.case
        slug = safe(f"{f.label}_levers_{c.outcome}_{c.direction}_{c.threshold:g}_{c.per}")
        title = f"{f.label}: what would it take for {c.describe()}?"
        if lever.box is None:
            yield _note(slug, "levers", cap, lever.note, title)
            continue
        ax = figures.feature_scores(lever.scores, title=f"{f.label}: influence on {c.describe()}")
        yield Panel(f"{slug}_scores", "levers", ax, cap, "", title)
        b = lever.box
        ax = figures.tradeoff(
            b.trajectory,
            b.step,
            title=f"{f.label}: where {c.describe()}",
            density=lever.density_target,
        )
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{lo:.3g}</td><td>{hi:.3g}</td>"
            f"<td>{_qp(b.quasi_p.get(n, (None, None)))}</td></tr>"
            for n, (lo, hi) in b.limits.items()
        )
        note = (
            f"<p><b>Region:</b> {html.escape(b.describe())}<br>"
            f"coverage {b.coverage:.0%}, density {b.density:.0%} (base rate "
            f"{lever.base_rate:.0%}, target {lever.density_target:.0%}), mass {b.mass:.0%}</p>"
            f"<p>{html.escape(lever.note)}</p>"
        )
        if rows:
            note += (
                "<table class='num'><tr><th>parameter</th><th>from</th><th>to</th>"
                f"<th>quasi-p (lower, upper)</th></tr>{rows}</table>"
            )
        yield Panel(f"{slug}_tradeoff", "levers", ax, cap, note)


def _qp(pair: tuple[float | None, float | None]) -> str:
    return ", ".join("open" if v is None else f"{v:.2g}" for v in pair)


def panels(
    results: list[Results],
    kinds: list[str] | None = None,
    findings: list[fnd.Finding] | None = None,
) -> Iterator[Panel]:
    """Yield every applicable figure (or note in its place) for these results."""
    chosen = set(kinds or KINDS)
    if findings is None:
        findings = fnd.gather(results, lever_analysis="levers" in chosen)
    runs = findings
    if "fan" in chosen:
        yield from _fan(runs)
    if "distributions" in chosen:
        yield from _distributions(runs)
    if "survival" in chosen:
        yield from _survival(runs)
    if "response" in chosen:
        yield from _response(runs)
    sweeps = [f for f in findings if f.is_sweep]
    for kind, make in (
        ("sensitivity", _sensitivity),
        ("heatmap", _heatmaps),
        ("levers", _levers),
    ):
        if kind in chosen:
            for f in sweeps:
                yield from make(f)
