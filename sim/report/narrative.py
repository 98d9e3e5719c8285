"""The report's opening narrative: what was run, the headline answers with their
uncertainty, what drives them and what would change them, in words with numbers.

Every number comes from the findings (`sim.analysis.findings`) that the report's tables and
figures also show; nothing is computed here but wording.
"""

from __future__ import annotations

import math

from sim.analysis import spread as spread_mod
from sim.analysis.findings import Finding, row, sobol_out_of_range
from sim.analysis.levers import Levers
from sim.model import outcomes

Paragraph = tuple[str, list[str]]  # (heading, sentences)
DESIGNS = {
    "lhs": "Latin-hypercube",
    "sobol": "Sobol (Saltelli)",
    "morris": "Morris",
    "grid": "grid",
}


def pct(p: float) -> str:
    """A share as a percentage with sensible precision."""
    if math.isnan(p):
        return "n/a"
    return f"{100 * p:.1f}%" if 0 < p < 0.995 else f"{100 * p:.0f}%"


def interval(r) -> str:
    """A summary row's 95% interval, e.g. "[2.4%, 4.6%]"."""
    return f"[{pct(r.low95)}, {pct(r.high95)}]"


def what_was_run(findings: list[Finding]) -> Paragraph:
    """One sentence per results directory: scenario, runs, horizon, seed, overrides or design."""
    parts = []
    for f in findings:
        r, sc = f.results, f.scenario
        span = ""
        if sc is not None and r.months:
            span = f" ({sc.start} to {sc.date(r.months)})"
        if f.is_sweep:
            names = r.meta.get("parameters") or []
            design = DESIGNS.get(str(r.meta.get("design")), str(r.meta.get("design")))
            parts.append(
                f"{f.label}: a {design} sweep of {r.meta.get('points')} parameter "
                f"points x {r.meta.get('replicates')} runs ({len(r.runs)} runs, {r.months} "
                f"months{span}, seed {r.meta.get('seed')}) over {len(names)} parameters of "
                f"{r.name}."
            )
        else:
            title = f" ({sc.title})" if sc is not None else ""
            over = r.meta.get("overrides") or {}
            extra = "; " + ", ".join(f"{k} = {v}" for k, v in over.items()) if over else ""
            parts.append(
                f"{f.label}{title}: {len(r.runs)} runs of {r.months} months{span}, seed "
                f"{r.meta.get('seed')}{extra}."
            )
    return "What was run", parts


def _outcome_specs(findings: list[Finding]):
    seen = {}
    for f in findings:
        if f.scenario is None:
            continue
        for spec in f.scenario.outcomes:
            seen.setdefault(spec.id, (spec, f.scenario))
    return list(seen.values())


def answers(findings: list[Finding]) -> Paragraph:
    """The headline answers per declared outcome, scenario by scenario, with intervals."""
    runs = [f for f in findings if not f.is_sweep] or findings
    sentences = []
    for spec, sc in _outcome_specs(runs):
        fields, oid = spec.fields, spec.id
        parts = []
        for f in runs:
            p = row(f.summary, oid, "p")
            if p is None:
                continue
            n = len(f.results.runs)
            pooled = " (pooled over the sweep)" if f.is_sweep else ""
            if getattr(p, "flag", ""):
                reason = p.note.split("; ")[0]
                text = f"{pct(p.value)} of runs in {f.label}{pooled}, but this is {reason}"
            elif p.value == 0:
                text = f"never in the {n} runs of {f.label}{pooled}"
                text += f" (95% interval up to {pct(p.high95)})"
            else:
                text = f"{pct(p.value)} of runs in {f.label}{pooled} {interval(p)}"
                when = row(f.summary, oid, "median_month")
                if when is not None and not math.isnan(when.value) and "median date" in when.note:
                    text += f", typically (median) from {when.note.split('median date ')[-1]}"
            text += over_parameters(f, oid, "p")
            parts.append(text)
        if not parts:
            continue
        sentences.append(f"{fields['label']}: " + "; ".join(parts) + ".")
        if "victim" in fields:  # a defection: what its victim does after it
            sentences += _responses(runs, spec, sc)
    if sentences:
        sentences.append(
            "Intervals in brackets are 95% Wilson intervals for the simulation's sampling error "
            "(seed noise) only; they say nothing about whether the scenario's numbers are "
            "right. 'Over plausible parameters' is the spread of the same probability across "
            "parameter settings drawn from the evidence ranges (or a posterior), each from its "
            "own runs: that is the uncertainty that matters for a decision."
        )
        missing = [f.label for f in runs if not f.is_sweep and f.results.spread is None]
        if missing:
            sentences.append(
                "Parameter uncertainty was not computed for " + ", ".join(missing) + " (made "
                "with --parameter-draws 0 or an older version): read its probabilities as "
                "conditional on the scenario's point values."
            )
    else:
        sentences.append("The results declare no outcome to report on.")
    return "Headline answers", sentences


def over_parameters(f: Finding, outcome: str, key: str) -> str:
    """The clause on a probability's spread over parameter settings for the answers, or "" when the
    results directory has no spread over parameter settings.
    """
    data = f.results.spread
    s = spread_mod.lookup(data, outcome, key)
    if s is None:
        return ""
    text = (
        f"; over plausible parameters (middle 80% of {data['settings']} settings "
        f"{data['source']}) {pct(s['p10'])} to {pct(s['p90'])}, median {pct(s['median'])}"
    )
    if s["drivers"]:
        text += ", moved most by " + " and ".join(n for n, _ in s["drivers"][:2])
    return text


def _responses(findings: list[Finding], spec, sc) -> list[str]:
    victim = sc.label(spec.fields["victim"])
    out = []
    for f in findings:
        rows = f.summary[(f.summary.outcome == spec.id) & f.summary.key.str.startswith("response:")]
        if rows.empty:
            continue
        # A "response" row is there only when it is what the victim does anyway.
        usual = f.summary[(f.summary.outcome == spec.id) & (f.summary.key == "response")]
        if not usual.empty:  # the "response" is what the victim does anyway: say so
            out.append(
                f"After a {spec.id} in {f.label}, {victim} shows no distinct response: "
                f"{usual.iloc[0].note}."
            )
            continue
        top = rows.sort_values("value", ascending=False).iloc[0]
        act = top.key.removeprefix("response:")
        k = top.note.rsplit("(", 1)[-1].rstrip(")")
        out.append(
            f"After a {spec.id} in {f.label}, {victim}'s most frequent action in the next "
            f"{outcomes.RESPONSE_WINDOW} months is '{act}' ({pct(top.value)} {interval(top)} of "
            f"the runs with one: {k})."
        )
    return out


def drivers(findings: list[Finding]) -> Paragraph:
    """What drives the answers: feature scores of each lever case, Sobol or Morris indices."""
    sentences = []
    for f in findings:
        if not f.is_sweep:
            continue
        if f.lever_note:
            sentences.append(f"{f.label}: {f.lever_note}")
        for lv in f.levers:
            if len(lv.scores) == 0:
                what = "never" if lv.cases == 0 else "always"
                sentences.append(
                    f"In {f.label}, {lv.case.describe()} {what} holds, so no driver can be ranked."
                )
                continue
            top = lv.scores.head(2)
            names = " and ".join(f"{n} ({v:.2f})" for n, v in top.items())
            low = lv.scores.index[-1]
            sentences.append(
                f"In {f.label}, whether {lv.case.describe()} depends most on {names}, by "
                f"extra-trees feature scores that sum to 1; {low} matters least "
                f"({lv.scores.iloc[-1]:.2f})."
            )
        for outcome, idx in f.sensitivity.items():
            if f.results.runs[outcome].astype(float).nunique() <= 1:
                continue  # an outcome that never varies has no variance to apportion
            key = "ST" if "ST" in idx else "mu_star"
            best = idx[key].sort_values(ascending=False)
            word = "total-order Sobol index" if key == "ST" else "Morris mu*"
            sentences.append(
                f"{f.label}: the {word} of {outcome} per point is largest for {best.index[0]} "
                f"({best.iloc[0]:.2f})."
            )
            if key == "ST":
                bad = sobol_out_of_range(idx)
                if bad:
                    sentences.append(
                        "Some Sobol indices fall outside [0, 1] (" + ", ".join(bad[:3]) + "): a "
                        "share of variance cannot, so these come from the sampling error of a "
                        f"small sample ({f.results.meta.get('points')} points); read them as "
                        "'large' or 'negligible' and raise the design's points before quoting."
                    )
    if not sentences:
        sentences.append(
            "No sweep was included, so this report cannot say which assumptions drive the "
            "answers: add a `sim sweep` results directory (e.g. of "
            "experiments/betrayal_sweep.toml)."
        )
    return "What drives them", sentences


def _lever_sentence(label: str, lv: Levers) -> str:
    box = lv.box
    if box is None or not box.met:
        return f"In {label}, for {lv.case.describe()}: {lv.note}"
    if not box.limits:
        return f"In {label}, for {lv.case.describe()}: {lv.note}"
    return (
        f"In {label}, {lv.case.describe()} in {pct(box.density)} of {lv.case.per}s (against "
        f"{pct(lv.base_rate)} over the whole sweep) where {box.describe()}; that region holds "
        f"{pct(box.coverage)} of all such {lv.case.per}s."
    )


def changes(findings: list[Finding]) -> Paragraph:
    """What would change the answers: lever regions, and differences between scenarios."""
    sentences = [_lever_sentence(f.label, lv) for f in findings if f.is_sweep for lv in f.levers]
    runs = [f for f in findings if not f.is_sweep]
    compared = False
    if len(runs) > 1:
        ref = runs[0]
        for spec, _ in _outcome_specs(runs):
            base = row(ref.summary, spec.id, "p")
            if base is None:
                continue
            moves = []
            for f in runs[1:]:
                p = row(f.summary, spec.id, "p")
                if p is None:
                    continue
                if p.value == 0 and base.value == 0:
                    moves.append(f"0 in {f.label} too")
                    continue
                overlap = p.low95 <= base.high95 and base.low95 <= p.high95
                verb = (
                    "about the same as"
                    if overlap
                    else ("up from" if p.value > base.value else "down from")
                )
                moves.append(f"{pct(p.value)} in {f.label} ({verb} {pct(base.value)})")
            if moves:
                what = spec.fields["label"]
                sentences.append(f"Against {ref.label}, P({what}) is " + "; ".join(moves) + ".")
                compared = True
    if compared:
        sentences.append(
            "(Scenarios whose 95% intervals overlap are read as 'about the same'; they are "
            "compared as independent samples.)"
        )
    if sentences:
        sentences.append(
            "For the effect of one change from a given date, run by run with the same random "
            "numbers, use `sim whatif`; for why an actor chose what it chose, `sim explain`."
        )
    else:
        sentences.append("Only one scenario and no sweep: nothing to compare.")
    return "What would change them", sentences


def narrative(findings: list[Finding]) -> list[Paragraph]:
    """The four paragraphs of the report's opening."""
    return [what_was_run(findings), answers(findings), drivers(findings), changes(findings)]
