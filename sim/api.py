"""Python API for notebooks and other tools: a run is a function.

>>> from sim import api
>>> result = api.simulate("scenarios/baseline.toml", replicates=200, seed=7,
...                       overrides={"actors.russia.salience.ukraine": 0.9})
>>> result.runs.betrayal.mean()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import engine, outcomes, rng
from sim.model.params import Params, compile_params
from sim.scenario import Scenario, as_scenario

# Replicates simulated together; bounds memory, and results do not depend on it because each
# run's random stream is keyed by its replicate index.
CHUNK = 2000


@dataclass(frozen=True)
class Result:
    """What `simulate` returns: the run table, per-month trajectories and what produced them."""

    scenario: Scenario
    params: Params
    seed: int
    months: int
    runs: pd.DataFrame
    series: pd.DataFrame | None

    def summary(self) -> pd.DataFrame:
        """Headline numbers: probabilities (with 95% intervals) and medians over the runs."""
        return summarise(self.runs, self.scenario, self.months)


def simulate(
    scenario: str | Path | Scenario,
    replicates: int = 100,
    seed: int = 0,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    keep_series: bool = True,
    point: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run ``replicates`` seeded replicates of a scenario with the array engine."""
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    sc = as_scenario(scenario, overrides)
    params = compile_params(sc)
    months = sc.months if months is None else int(months)
    runs, series = [], []
    for start in range(0, replicates, CHUNK):
        reps = np.arange(start, min(start + CHUNK, replicates))
        keys = rng.run_keys(seed, np.full(len(reps), point), reps)
        traj = engine.simulate(params, keys, months)
        runs.append(outcomes.run_table(traj, params, reps))
        if keep_series:
            series.append(outcomes.series_table(traj, params, reps))
        if progress:
            progress(len(reps))
    return Result(
        scenario=sc,
        params=params,
        seed=seed,
        months=months,
        runs=pd.concat(runs, ignore_index=True),
        series=pd.concat(series, ignore_index=True) if keep_series else None,
    )


INTERVAL_NOTE = "95% Wilson interval over runs: sampling uncertainty only"


def summarise(
    runs: pd.DataFrame, scenario: Scenario | None = None, months: int | None = None
) -> pd.DataFrame:
    """Headline numbers of a run table: one row per statistic with its value, a 95% interval
    where it is a share of runs (Wilson; sampling uncertainty only), and what it means.

    The outcomes are the scenario's declarations (partnership, defection, balance); dates are
    calendar months from the scenario's start.
    """
    from sim import analysis

    n = len(runs)
    rows: list[tuple] = [("runs", n, None, None, "replicates")]

    def share(label: str, mask: pd.Series, note: str) -> None:
        mask = mask.astype(bool)
        k, m = int(mask.sum()), len(mask)
        if m == 0:
            rows.append((label, float("nan"), None, None, note + " (no runs qualify)"))
            return
        p, lo, hi = analysis.wilson(k, m)
        rows.append((label, p, lo, hi, f"{note} ({k} of {m})"))

    def median(label: str, values: pd.Series, note: str) -> None:
        v = values.dropna()
        rows.append((label, float(v.median()) if len(v) else float("nan"), None, None, note))

    def first_date(col: str) -> str:
        dates = runs[col].dropna() if col in runs else pd.Series(dtype=str)
        return f"; median date {sorted(dates)[len(dates) // 2]}" if len(dates) else ""

    specs = scenario.outcomes if scenario is not None else ()
    for spec in specs:
        f, i = spec.fields, spec.id
        if spec.kind == "partnership":
            a, b = (scenario.label(x) for x in f["actors"])
            share(
                f"P({f['label'].lower()})",
                runs[i],
                f"{a}-{b} above {f['threshold']:g} for {f['months']} months",
            )
            median(
                f"median month of {i}",
                runs[f"{i}_month"],
                "among runs with one" + first_date(f"{i}_date"),
            )
        elif spec.kind == "defection":
            actor, victim = scenario.label(f["actor"]), scenario.label(f["victim"])
            share(f"P({i}: at least one episode)", runs[i], f"{actor} chooses {f['action']}")
            offered = runs[f"{i}_offered"].astype(bool)
            share(f"P({i} | an offer was made)", runs[i][offered], "among runs with an offer")
            median(
                f"median month of first {i}",
                runs[f"{i}_month"],
                "among runs with one" + first_date(f"{i}_date"),
            )
            median(f"median months from offer to {i}", runs[f"{i}_wait"], "among runs with one")
            median(f"median length of first {i} episode", runs[f"{i}_length"], "months")
            rows.append(
                (
                    f"mean {i} episodes per run",
                    float(runs[f"{i}_episodes"].mean()),
                    None,
                    None,
                    "episodes: spells of the action",
                )
            )
            response = runs[f"{i}_response"].astype(str)
            done = response[response != outcomes.NO_RESPONSE]
            for act in done.value_counts().index:
                share(
                    f"{victim}'s response: {act}",
                    response[runs[i]] == act,
                    f"share of runs with a {i}: most frequent action in the next "
                    f"{outcomes.RESPONSE_WINDOW} months",
                )
        else:
            h = scenario.label(f["actor"])
            share(f"P({f['label'].lower()})", runs[i], f"{h} ends within the band of {f['band']:g}")
            median(
                f"median final {i} index",
                runs[f"{i}_final"],
                f"{h}: alignment with "
                f"{scenario.label(f['east'])} minus with {scenario.label(f['west'])}",
            )
    if "bloc_change" in runs:
        share("P(bloc change)", runs.bloc_change, "final two blocs differ from the start's")
        rows.append(
            (
                "most common bloc structure",
                runs.blocs.mode().iat[0] if n else "",
                None,
                None,
                "landscape theory",
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
            )
        )
    return pd.DataFrame(rows, columns=["statistic", "value", "low95", "high95", "note"])
