"""Findings: everything a report says about a set of results directories, computed once.

For each results directory: its scenario (from the metadata), the headline numbers
(`sim.analysis.summary`), and for a sweep the sensitivity indices of its design and the levers
of its cases (`sim.analysis.levers`). The report's narrative, tables and figures all read these,
so the words and the figures cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from sim.analysis import levers as lv
from sim.analysis import statistics
from sim.analysis.statistics import Results
from sim.analysis.summary import summarise
from sim.errors import SimInputError
from sim.model import outcomes
from sim.scenario import Scenario, from_dict

# Without a recorded scenario: the events of the run table and the first pair's alignment.
SENSITIVITY_OUTCOMES = ("alignment_final",)
CASE = re.compile(
    r"^\s*([A-Za-z_][\w=]*)\s*(?:([<>])\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?))?\s*(?::\s*(run|point))?\s*$"
)
CASE_HELP = "NAME, NAME<VALUE or NAME>VALUE, optionally :point (e.g. betrayal<0.5, partnership)"


@dataclass(frozen=True)
class Finding:
    """What the report says about one results directory."""

    results: Results
    label: str
    scenario: Scenario | None
    summary: pd.DataFrame
    sensitivity: dict[str, pd.DataFrame] = field(default_factory=dict)
    levers: tuple[lv.Levers, ...] = ()
    lever_note: str = ""  # why there is no lever analysis (e.g. EMA Workbench missing)

    @property
    def is_sweep(self) -> bool:
        """Whether the results are a sweep's."""
        return self.results.kind == "sweep"


def scenario_of(r: Results) -> Scenario | None:
    """The resolved scenario recorded in the metadata (None if it is missing or invalid)."""
    raw = r.meta.get("scenario")
    if not isinstance(raw, dict):
        return None
    try:
        return from_dict(raw, str(r.meta.get("scenario_source") or r.path))
    except SimInputError:
        return None


def default_cases(runs: pd.DataFrame, scenario: Scenario | None) -> list[lv.Case]:
    """The users' questions as cases: each declared outcome users want (a partnership) happens,
    each they do not want (a defection) is avoided (its kind says which); outcomes neither (a
    balance) ask nothing. Without a recorded scenario, each event's case is that it happens.
    """
    if scenario is not None:
        wanted = [(o.id, outcomes.of(o).wanted) for o in scenario.outcomes]
    else:  # no recorded scenario, so no kinds: ask how each event comes about
        wanted = [(e, True) for e in statistics.events_of(runs)]
    out = []
    for oid, want in wanted:
        if oid in runs and want is not None:
            out.append(lv.case(runs, oid, below=None if want else 0.5))
    return out


def sensitivity_outcomes(runs: pd.DataFrame, scenario: Scenario | None) -> list[str]:
    """The outcomes a sensitivity analysis is reported for: the declared events (yes/no with
    a month: partnerships, defections) and the first pair's final alignment.
    """
    if scenario is not None:
        events = [o.id for o in scenario.outcomes if outcomes.of(o).event]
    else:
        events = list(statistics.events_of(runs))
    return [o for o in (*events, *SENSITIVITY_OUTCOMES) if o in runs]


def parse_case(text: str, runs: pd.DataFrame) -> lv.Case:
    """A case from ``NAME``, ``NAME<VALUE`` or ``NAME>VALUE``, optionally ending ``:point``."""
    m = CASE.match(text)
    if not m:
        raise SimInputError("not a case definition", field="--lever", found=text, allowed=CASE_HELP)
    name, sign, value, per = m.groups()
    above = float(value) if sign == ">" else None
    below = float(value) if sign == "<" else None
    return lv.case(runs, name, above, below, per or "run")


def gather(
    results: list[Results],
    cases: list[str] | None = None,
    density: float | None = None,
    lever_analysis: bool = True,
) -> list[Finding]:
    """The findings of each results directory. ``cases`` replace the default lever cases
    (`default_cases`) of every sweep; ``density`` is the lever density target (default: halfway
    from each case's base rate to 1).
    """
    labels = statistics.labels_for(results)
    out = []
    for r, label in zip(results, labels, strict=True):
        sc = scenario_of(r)
        summary = summarise(r.runs, sc, r.months, r.trajectories)
        if r.kind != "sweep":
            out.append(Finding(r, label, sc, summary))
            continue
        indices: dict[str, pd.DataFrame] = {}
        if r.meta.get("design") in ("sobol", "morris"):
            for outcome in sensitivity_outcomes(r.runs, sc):
                if outcome in r.runs:
                    res = statistics.sensitivity(r.runs, r.points, r.meta, outcome)
                    if res is not None:
                        indices[outcome] = res
        found: list[lv.Levers] = []
        note = ""
        if lever_analysis:
            names = statistics.parameter_names(r.meta)
            chosen = [parse_case(c, r.runs) for c in cases] if cases else default_cases(r.runs, sc)
            seed = int(r.meta.get("seed") or 0)
            try:
                found = [lv.levers(r.runs, names, c, density, seed=seed) for c in chosen]
            except SimInputError as exc:
                if exc.field != "ema_workbench":
                    raise
                note = f"No lever analysis: {exc.detail}; {lv.INSTALL_HINT}."
        out.append(Finding(r, label, sc, summary, indices, tuple(found), note))
    return out


def row(summary: pd.DataFrame, outcome: str, key: str) -> pd.Series | None:
    """The summary row of one outcome's statistic (``key`` as in `summarise`), or None."""
    hit = summary[(summary.outcome == outcome) & (summary.key == key)]
    return None if hit.empty else hit.iloc[0]


def sobol_out_of_range(indices: pd.DataFrame) -> list[str]:
    """Parameters whose Sobol index lies above 1 or clearly below 0 (not a share of variance:
    sampling error of a small sample).
    """
    bad = []
    for col in ("S1", "ST"):
        if col in indices:
            bad += [f"{p} ({col} {v:.2f})" for p, v in indices[col].items() if v > 1 or v < -0.05]
    return bad
