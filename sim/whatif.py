"""Paired counterfactuals: the same runs with and without an intervention from a date on.

`whatif` simulates a scenario twice with the same seed and replicates: once as it is (the
baseline arm) and once with an intervention from month ``at`` on (the what-if arm). A run's
random stream is keyed by (seed, point, replicate) (`sim.model.rng`), so run r of both arms
draws the same numbers every month: the arms are identical before the intervention and every
difference after it is the intervention's doing (common random numbers). Differences are
therefore taken run by run (paired), and their intervals are much narrower than those of a
comparison of two independent sets of runs (`paired_differences` reports both).

Interventions are scenario inputs, built on a copy of the scenario's resolved document:

- ``set``: a regime change from ``at`` on (``[regimes]`` with ``set``), e.g. a US policy
  commitment ``actors.united_states.actions.engage_iran.bias = 1``;
- ``force``: a regime that leaves an actor one action from ``at`` on (every other action's
  ``available = false``);
- ``events``: the named events fire in month ``at``. A random event whose window holds ``at``
  gets a monthly hazard of 1 for that month (a regime, then its hazard is restored). Any other
  event is fired through a copy of it (``<id>_whatif``, a random event with hazard 0 in both arms
  that the what-if arm raises to 1 in month ``at``); the copy adds one random slot per month, so
  both arms then draw from streams laid out differently from the plain scenario's: still
  paired, but the baseline arm is not run-for-run the plain `sim run`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import api
from sim.errors import SimInputError
from sim.model import outcomes
from sim.scenario import Scenario, as_scenario, calendar, from_dict

REGIME = "whatif"  # id prefix of the regimes an intervention adds
COPY_SUFFIX = (
    "_whatif"  # id suffix of an event copied so that it can fire in the intervention month
)


@dataclass(frozen=True)
class Arms:
    """The two scenarios of a paired comparison and what was done to make them."""

    baseline: Scenario
    changed: Scenario
    month: int
    date: str
    changes: tuple[str, ...]  # one line per intervention, for readers
    plain_baseline: bool  # whether the baseline arm is the scenario as given, run for run


@dataclass(frozen=True)
class WhatIf:
    """A paired what-if: both arms' run tables and the paired differences of every outcome."""

    arms: Arms
    seed: int
    months: int
    baseline: api.Result
    changed: api.Result
    differences: pd.DataFrame


def month_of(scenario: Scenario, at: int | str) -> int:
    """The month of an intervention given as a month number or a "YYYY-MM" date."""
    if isinstance(at, str) and not at.strip().isdigit():
        try:
            month = calendar.month_of(at, scenario.start)
        except ValueError:
            raise SimInputError(
                "not a month", field="--at", found=at, allowed=calendar.FORMAT
            ) from None
    else:
        month = int(at)
    if not 1 <= month <= scenario.months:
        last = scenario.date(scenario.months)
        raise SimInputError(
            "outside the scenario's months",
            field="--at",
            found=at,
            allowed=f"1 to {scenario.months} ({scenario.start} to {last})",
        )
    return month


def arms(
    scenario: str | Path | Scenario,
    at: int | str,
    *,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - the CLI's word
    force: Mapping[str, str] | None = None,
    events: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Arms:
    """Build the baseline and what-if scenarios of an intervention at ``at``."""
    sc = as_scenario(scenario, overrides)
    month = month_of(sc, at)
    base = copy.deepcopy(dict(sc.raw))
    regimes: dict[str, Any] = {}
    changes: list[str] = []
    if set:
        regimes[f"{REGIME}_set"] = {
            "label": "what-if: parameters set",
            "month": month,
            "set": {name: _value(name, v) for name, v in set.items()},
        }
        changes += [f"set {name} = {v}" for name, v in set.items()]
    for actor, action in (force or {}).items():
        regimes[f"{REGIME}_force_{actor}"] = _force(sc, actor, action, events)
        regimes[f"{REGIME}_force_{actor}"]["month"] = month
        changes.append(f"{sc.label(actor)} limited to '{action}'")
    plain = True
    for name in events:
        ev = _event(sc, name)
        doc = base["events"][name]
        window = ev.month is None and ev.start <= month <= (ev.end or sc.months)
        if window:
            regimes[f"{REGIME}_event_{name}"] = {
                "label": f"what-if: {name} fires",
                "month": month,
                "set": {f"events.{name}.hazard": 1.0},
            }
            if month < sc.months:
                regimes[f"{REGIME}_event_{name}_end"] = {
                    "label": f"what-if: {name} back to its hazard",
                    "month": month + 1,
                    "set": {f"events.{name}.hazard": _hazard_at(sc, name, month)},
                }
        else:
            twin = f"{name}{COPY_SUFFIX}"
            body = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("month", "date")}
            body.update(label=f"{ev.label} (what-if copy)", hazard=0.0, start=month, end=month)
            base["events"][twin] = body
            regimes[f"{REGIME}_event_{name}"] = {
                "label": f"what-if: {name} fires",
                "month": month,
                "set": {f"events.{twin}.hazard": 1.0},
            }
            plain = False
        changes.append(f"event '{name}' ({ev.label}) fires")
    changed = copy.deepcopy(base)
    if regimes:
        changed.setdefault("regimes", {}).update(regimes)
    try:
        baseline_sc = from_dict(base, sc.source) if not plain else sc
        changed_sc = from_dict(changed, sc.source)
    except SimInputError as exc:
        raise exc.prefixed("the intervention is not a valid scenario change: ") from None
    return Arms(baseline_sc, changed_sc, month, sc.date(month), tuple(changes), plain)


def _value(name: str, value: Any) -> float | bool:
    if name.endswith(".available") and isinstance(value, str):
        if value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    if isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SimInputError("not a number", field=f"--set {name}", found=value) from None


def _force(sc: Scenario, actor: str, action: str, events: Sequence[str]) -> dict[str, Any]:
    if actor not in sc.actor_ids:
        raise SimInputError(
            "unknown actor", field="--only", found=actor, allowed=", ".join(sc.actor_ids)
        )
    names = tuple(a.id for a in sc.actor(actor).actions)
    if action not in names:
        raise SimInputError(
            f"unknown action of {actor}", field="--only", found=action, allowed=", ".join(names)
        )
    for deal in sc.deals:
        if (deal.actor, deal.action) != (actor, action):
            continue
        offering = [e.id for e in sc.events if e.offers == deal.id]
        if not any(e in offering for e in events):
            raise SimInputError(
                f"'{action}' is possible only while an offer of {deal.id} is on the table; "
                "make one with --event in the same month",
                field="--only",
                found=f"{actor}={action}",
                allowed=", ".join(f"--event {e}" for e in offering) or "an event that offers it",
            )
    return {
        "label": f"what-if: {actor} limited to {action}",
        "set": {f"actors.{actor}.actions.{a}.available": a == action for a in names},
    }


def _event(sc: Scenario, name: str):
    for ev in sc.events:
        if ev.id == name:
            return ev
    raise SimInputError(
        "unknown event", field="--event", found=name, allowed=", ".join(e.id for e in sc.events)
    )


def _hazard_at(sc: Scenario, name: str, month: int) -> float:
    """The event's hazard in force in ``month`` (regimes applied), to restore it after."""
    from sim.model.params import compile_params

    params = compile_params(sc)
    x = params.events.index(name)
    for m in range(1, month + 1):
        params = params.at_month(m)
    return float(params.ev_hazard[0, x])


def whatif(
    scenario: str | Path | Scenario,
    at: int | str,
    *,
    set: Mapping[str, Any] | None = None,  # noqa: A002
    force: Mapping[str, str] | None = None,
    events: Sequence[str] = (),
    replicates: int = 1000,
    seed: int = 0,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
) -> WhatIf:
    """Run the paired comparison of an intervention at ``at`` (a month or "YYYY-MM").

    Both arms run ``replicates`` replicates with ``seed`` (the same streams); the result holds
    both run tables and `paired_differences` of every outcome.
    """
    two = arms(scenario, at, set=set, force=force, events=events, overrides=overrides)
    horizon = two.baseline.months if months is None else int(months)
    if two.month > horizon:
        raise SimInputError(
            "the intervention comes after the horizon",
            field="--at",
            found=at,
            allowed=f"<= {horizon}",
        )
    base = api.simulate(two.baseline, replicates=replicates, seed=seed, months=horizon)
    new = api.simulate(two.changed, replicates=replicates, seed=seed, months=horizon)
    diff = paired_differences(base.runs, new.runs, confidence)
    return WhatIf(two, seed, horizon, base, new, diff)


# --------------------------------------------------------------------------------------------
# Paired differences


def outcome_columns(runs: pd.DataFrame) -> dict[str, pd.Series]:
    """Every outcome of a run table as a numeric series: numbers and true/false as they are,
    categories (a victim's response, the bloc structure) as one 0/1 indicator per value
    (``betrayal_response=go_it_alone``). Calendar dates are left out (their ``_month``
    twins carry them).
    """
    out: dict[str, pd.Series] = {}
    for col in runs.columns:
        if col in ("replicate", "point") or col.endswith("_date"):
            continue
        s = runs[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("Float64").astype(float)
        else:
            values = sorted(set(s.astype(str)))
            for v in values:
                out[f"{col}={v}"] = (s.astype(str) == v).astype(float)
    return out


def paired_differences(
    baseline: pd.DataFrame, changed: pd.DataFrame, confidence: float = 0.95
) -> pd.DataFrame:
    """Run-by-run differences (what-if minus baseline) of every outcome, with intervals.

    Runs are matched by ``replicate``. Per outcome: the two arms' means, the mean paired
    difference with its t interval (``low``, ``high``), the interval an unpaired comparison of
    the same runs would give (Welch: ``unpaired_low``, ``unpaired_high``), how many times wider
    that one is (``width_ratio``), the number of pairs and of runs whose value changed. Months
    of an event are compared among runs where both arms have one.
    """
    if (
        len(baseline) != len(changed)
        or not (baseline["replicate"].to_numpy() == changed["replicate"].to_numpy()).all()
    ):
        raise ValueError("the arms must hold the same replicates in the same order")
    a, b = outcome_columns(baseline), outcome_columns(changed)
    rows = []
    for name in dict.fromkeys([*a, *b]):
        x = a.get(name, pd.Series(0.0, index=baseline.index))
        y = b.get(name, pd.Series(0.0, index=changed.index))
        rows.append({"outcome": name, **_pair_stats(x.to_numpy(), y.to_numpy(), confidence)})
    return pd.DataFrame(rows)


def _pair_stats(x: np.ndarray, y: np.ndarray, confidence: float) -> dict[str, float]:
    both = ~np.isnan(x) & ~np.isnan(y)
    d = y[both] - x[both]
    n = len(d)
    xs, ys = x[~np.isnan(x)], y[~np.isnan(y)]
    out = {
        "baseline": float(xs.mean()) if len(xs) else np.nan,
        "whatif": float(ys.mean()) if len(ys) else np.nan,
        "difference": float(d.mean()) if n else np.nan,
        "low": np.nan,
        "high": np.nan,
        "unpaired_low": np.nan,
        "unpaired_high": np.nan,
        "width_ratio": np.nan,
        "pairs": n,
        "changed_runs": int((d != 0).sum()),
    }
    if n < 2:
        return out
    q = stats.t.ppf(0.5 + confidence / 2, n - 1)
    half = q * d.std(ddof=1) / np.sqrt(n)
    out["low"], out["high"] = out["difference"] - half, out["difference"] + half
    if len(xs) >= 2 and len(ys) >= 2:
        vx, vy = xs.var(ddof=1) / len(xs), ys.var(ddof=1) / len(ys)
        se = np.sqrt(vx + vy)
        dof = (vx + vy) ** 2 / (vx**2 / (len(xs) - 1) + vy**2 / (len(ys) - 1)) if se > 0 else 1
        uhalf = stats.t.ppf(0.5 + confidence / 2, dof) * se
        gap = ys.mean() - xs.mean()
        out["unpaired_low"], out["unpaired_high"] = gap - uhalf, gap + uhalf
        out["width_ratio"] = uhalf / half if half > 0 else (np.inf if uhalf > 0 else np.nan)
    return out


def alignment_differences(result: WhatIf, a: str, b: str) -> np.ndarray:
    """Run-by-run difference (what-if minus baseline) of the alignment of actors ``a`` and
    ``b`` over months 0..T, (runs, T + 1); zero before the intervention.
    """
    col = outcomes.pair_column(*_file_order(result.arms.baseline, a, b))

    def table(res: api.Result) -> np.ndarray:
        return res.series.pivot(index="replicate", columns="month", values=col).to_numpy()

    return table(result.changed) - table(result.baseline)


def _file_order(sc: Scenario, a: str, b: str) -> tuple[str, str]:
    ids = sc.actor_ids
    for actor in (a, b):
        if actor not in ids:
            raise SimInputError("unknown actor", field="pair", found=actor, allowed=", ".join(ids))
    return (a, b) if ids.index(a) < ids.index(b) else (b, a)


def describe(result: WhatIf, top: int | None = None) -> str:
    """The comparison as text: what was done, then every outcome whose value changed."""
    arms_ = result.arms
    sc = arms_.baseline
    lines = [
        f"What if, from {arms_.date} (month {arms_.month}): "
        + "; ".join(arms_.changes or ("nothing",)),
        f"{sc.name}: {len(result.baseline.runs)} paired runs, seed {result.seed}, "
        f"{result.months} months ({sc.start} to {sc.date(result.months)}); both arms draw the "
        "same random numbers, so they are identical before the intervention.",
    ]
    if not arms_.plain_baseline:
        lines.append(
            "(An event copy adds a random slot: the baseline arm differs run by run from a plain "
            "run of the scenario with this seed, not in distribution.)"
        )
    d = result.differences
    moved = d[d.changed_runs > 0]
    if top is not None:
        moved = moved.reindex(moved.difference.abs().sort_values(ascending=False).index)[:top]
    if moved.empty:
        lines.append("No outcome changed in any run.")
        return "\n".join(lines)
    width = max(len(o) for o in moved.outcome)
    lines.append(
        f"{'outcome':<{width}}  {'baseline':>9} {'what-if':>9} {'difference [95% paired]':>28}"
        f"  {'unpaired 95%':>20}  runs changed"
    )
    for r in moved.itertuples(index=False):
        interval = f"[{r.low:+.3f}, {r.high:+.3f}]" if np.isfinite(r.low) else ""
        unpaired = (
            f"[{r.unpaired_low:+.3f}, {r.unpaired_high:+.3f}]"
            if np.isfinite(r.unpaired_low)
            else ""
        )
        lines.append(
            f"{r.outcome:<{width}}  {r.baseline:9.3f} {r.whatif:9.3f} {r.difference:+9.3f} "
            f"{interval:>18}  {unpaired:>20}  {r.changed_runs} of {r.pairs}"
        )
    lines.append(
        "Intervals: 95% t intervals of the mean run-by-run difference (sampling uncertainty "
        "only); 'unpaired' is what comparing the same runs as independent samples would give."
    )
    return "\n".join(lines)
