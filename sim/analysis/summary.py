"""Headline numbers of a run table: the declared outcomes' probabilities with Wilson
intervals, medians and dates, the victim's response after a defection, blocs and policy
changes. One table serves `sim run`'s printout, `sim.api` (`Result.summary`) and the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.statistics import wilson
from sim.model import outcomes
from sim.scenario import Scenario

INTERVAL_NOTE = "95% Wilson interval over runs: sampling uncertainty only"
COLUMNS = ["statistic", "value", "low95", "high95", "note", "outcome", "key"]


def summarise(
    runs: pd.DataFrame, scenario: Scenario | None = None, months: int | None = None
) -> pd.DataFrame:
    """Headline numbers of a run table: one row per statistic with its value, a 95% interval
    where it is a share of runs (Wilson; sampling uncertainty only), and what it means.

    The outcomes are the scenario's declarations (partnership, defection, balance); dates are
    calendar months from the scenario's start. ``outcome`` names the declared outcome a row
    is about and ``key`` what the row is (``p``, ``p_offered``, ``median_month``,
    ``response:<action>``, ...), for programs; statistics whose columns the table lacks are
    left out.
    """
    n = len(runs)
    rows: list[tuple] = [("runs", n, None, None, "replicates", "", "runs")]

    def share(label: str, col: str | pd.Series, note: str, oid: str, key: str, among=None):
        if isinstance(col, str) and col not in runs:
            return
        mask = (runs[col] if isinstance(col, str) else col).astype(bool)
        if among is not None:
            mask = mask[among]
        k, m = int(mask.sum()), len(mask)
        if m == 0:
            rows.append((label, float("nan"), None, None, note + " (no runs qualify)", oid, key))
            return
        p, lo, hi = wilson(k, m)
        rows.append((label, p, lo, hi, f"{note} ({k} of {m})", oid, key))

    def median(label: str, col: str, note: str, oid: str, key: str, dated: bool = False):
        if col not in runs:
            return
        v = runs[col].dropna()
        value = float(v.median()) if len(v) else float("nan")
        if dated and len(v):
            # A month is a month: the lower median (one run's month), and the date of that
            # same month, so "median month 49" and its date always agree.
            value = float(np.sort(v.to_numpy())[(len(v) - 1) // 2])
            if scenario is not None:
                note += f"; median date {scenario.date(int(value))}"
        rows.append((label, value, None, None, note, oid, key))

    specs = scenario.outcomes if scenario is not None else ()
    for spec in specs:
        f, i = spec.fields, spec.id
        if i not in runs:
            continue
        if spec.kind == "partnership":
            a, b = (scenario.label(x) for x in f["actors"])
            share(
                f"P({f['label']})",
                i,
                f"{a}-{b} above {f['threshold']:g} for {f['months']} months",
                i,
                "p",
            )
            median(
                f"median month of {i}", f"{i}_month", "among runs with one", i, "median_month", True
            )
        elif spec.kind == "defection":
            actor, victim = scenario.label(f["actor"]), scenario.label(f["victim"])
            share(f"P({i}: at least one episode)", i, f"{actor} chooses {f['action']}", i, "p")
            if f"{i}_offered" in runs:
                offered = runs[f"{i}_offered"].astype(bool)
                share(
                    f"P({i} | an offer was made)",
                    i,
                    "among runs with an offer",
                    i,
                    "p_offered",
                    among=offered,
                )
            median(
                f"median month of first {i}",
                f"{i}_month",
                "among runs with one",
                i,
                "median_month",
                True,
            )
            median(
                f"median months from offer to {i}",
                f"{i}_wait",
                "among runs with one",
                i,
                "median_wait",
            )
            median(
                f"median length of first {i} episode", f"{i}_length", "months", i, "median_length"
            )
            if f"{i}_episodes" in runs:
                rows.append(
                    (
                        f"mean {i} episodes per run",
                        float(runs[f"{i}_episodes"].mean()),
                        None,
                        None,
                        "episodes: spells of the action",
                        i,
                        "mean_episodes",
                    )
                )
            if f"{i}_response" in runs:
                response = runs[f"{i}_response"].astype(str)
                done = response[response != outcomes.NO_RESPONSE]
                for act in done.value_counts().index:
                    share(
                        f"{victim}'s response: {act}",
                        response == act,
                        f"share of runs with a {i}: most frequent action in the next "
                        f"{outcomes.RESPONSE_WINDOW} months",
                        i,
                        f"response:{act}",
                        among=runs[i].astype(bool),
                    )
        else:
            h = scenario.label(f["actor"])
            share(f"P({f['label']})", i, f"{h} ends within the band of {f['band']:g}", i, "p")
            median(
                f"median final {i} index",
                f"{i}_final",
                f"{h}: alignment with "
                f"{scenario.label(f['east'])} minus with {scenario.label(f['west'])}",
                i,
                "median_final",
            )
    if "bloc_change" in runs:
        share(
            "P(bloc change)",
            "bloc_change",
            "final two blocs differ from the start's",
            "",
            "p_bloc_change",
        )
    if "blocs" in runs:
        rows.append(
            (
                "most common bloc structure",
                runs.blocs.mode().iat[0] if n else "",
                None,
                None,
                "landscape theory",
                "",
                "blocs",
            )
        )
    per_decade = 120.0 / months if months else 1.0
    for col in [c for c in runs.columns if c.startswith("changes_")]:
        actor = col.removeprefix("changes_")
        name = scenario.label(actor) if scenario is not None else actor
        rows.append(
            (
                f"policy changes of {name} per 10 years",
                float(runs[col].mean()) * per_decade,
                None,
                None,
                "mean over runs",
                "",
                f"changes:{actor}",
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)
