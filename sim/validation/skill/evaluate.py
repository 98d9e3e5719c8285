"""Rolling-origin evaluation: every forecaster refitted at each origin on data up to it only.

At origin o the data are read with the cutoff o (`unga.load`, which drops later sessions before
parsing them), so no forecaster can see a later session; forecasts are of each pair's distance
in sessions o + h, and are scored against the full data when those sessions are in it (a later
session added to the data file is scored with no change here). The core plus model's coefficient
at origin o is estimated from the core's errors on targets at or before o, recomputed from the
data cut at o. A calibration that saw a session after an origin at which the model forecasts is
refused (`covariate.check_calibration`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.scenario import load as load_scenario
from sim.validation.data import measurement as ms
from sim.validation.data import unga
from sim.validation.skill import baselines, core, covariate, scores
from sim.validation.skill.plan import Forecaster, Plan

ALL = 9999  # read every session the data file holds (for scoring only)


@dataclass(frozen=True)
class Evaluation:
    """The forecasts and their scores (docs/skill.md)."""

    plan: Plan
    forecasts: pd.DataFrame  # forecaster, origin, horizon, target, pair, observed, scores
    coefficients: pd.DataFrame  # origin, beta, se, low, high, n (core plus model)
    summary: pd.DataFrame  # forecaster, group, n, crps, cover_50, cover_90
    paired: pd.DataFrame  # forecaster, reference, n, mean, low, high, origins
    pit: pd.DataFrame  # forecaster, bin, share
    reference: str
    data_file: str
    data_sha256: str
    last_year: int  # the last session in the data (targets after it are not scored)


def history(decl: ms.Measurement, data: unga.Data, pairs, first_year: int) -> np.ndarray:
    """Each pair's distance (Y, P) in sessions ``first_year`` .. ``data.until``."""
    d = ms.pair_distances(decl, data)
    wide = d.pivot(index="year", columns="pair", values="distance")
    cols = [f"{a}-{b}" for a, b in pairs]
    return wide.reindex(index=range(first_year, data.until + 1), columns=cols).to_numpy(float)


def _pair_sd(decl: ms.Measurement, data: unga.Data, pairs) -> np.ndarray:
    d = ms.pair_distances(decl, data)
    sd = d.groupby("pair").sd.mean()
    return np.array([sd[f"{a}-{b}"] for a, b in pairs])


def _anchor(decl: ms.Measurement, hist: np.ndarray, first_year: int) -> np.ndarray:
    lo, hi = decl.anchor
    return hist[lo - first_year : hi - first_year + 1].mean(axis=0)


def naive(f: Forecaster, hist: np.ndarray, h: int, samples: int) -> list[np.ndarray] | None:
    """A naive forecaster's draws per pair, or None when the history is too short for it."""
    if f.kind == "persistence" and len(hist) > h:
        return baselines.persistence(hist, h, f.pooled)
    if f.kind == "drift" and len(hist) > 2:
        return baselines.drift(hist, h, samples)
    if f.kind == "window_mean" and len(hist) >= f.years + h:
        return baselines.window_mean(hist, h, f.years)
    return None


def forecast_origin(
    plan: Plan,
    decl: ms.Measurement,
    data: unga.Data,
    sim: covariate.Simulated | None,
    core_means: dict[tuple[int, int], np.ndarray],
) -> tuple[dict[tuple[str, int], list[np.ndarray]], covariate.Coefficient | None]:
    """Every forecaster's draws per pair at the origin ``data.until``, by (forecaster, h).

    ``core_means`` holds the core's mean forecast per pair of earlier origins, by (origin, h);
    this origin's are added to it.
    """
    origin = data.until
    pairs = plan.pairs
    hist = history(decl, data, pairs, plan.first_year)
    if np.isnan(hist).any():
        raise SimInputError("the data miss a session for a pair", file=data.source, field="year")
    out: dict[tuple[str, int], list[np.ndarray]] = {}
    fit = core.fit(data, {a: decl.states[a] for a in _actors(pairs)}, plan.first_year)
    core_draws = {h: fit.distances(pairs, h, plan.samples, plan.seed) for h in plan.horizons}
    for h in plan.horizons:
        core_means[(origin, h)] = core_draws[h].mean(axis=1)
    coef = None
    covers = sim is not None and sim.covers(origin) and origin >= decl.anchor[1]
    if covers and any(f.kind == "core_model" for f in plan.forecasters):
        coef = _coefficient(sim, hist, core_means, origin, plan.first_year)
    for f in plan.forecasters:
        for h in plan.horizons:
            target = origin + h
            if f.kind == "core":
                out[(f.name, h)] = list(core_draws[h])
            elif f.naive:
                draws = naive(f, hist, h, plan.samples)
                if draws is not None:
                    out[(f.name, h)] = draws
            elif not covers or not sim.covers(target):
                continue
            elif f.kind == "model":
                anchor = _anchor(decl, hist, plan.first_year)
                sd = _pair_sd(decl, data, pairs)
                out[(f.name, h)] = list(covariate.alone(sim, anchor, sd, target, plan.seed))
            elif f.kind == "core_model":
                shift = coef.beta * sim.drift(origin, target)
                out[(f.name, h)] = list(core_draws[h] + shift[:, None])
    return out, coef


def _actors(pairs) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for a, b in pairs:
        seen[a] = seen[b] = None
    return tuple(seen)


def _coefficient(sim, hist, core_means, origin, first_year) -> covariate.Coefficient:
    """The drift coefficient from the core's errors on targets at or before ``origin``."""
    xs, rs = [], []
    for (o, h), mean in core_means.items():
        t = o + h
        if o >= origin or t > origin or not (sim.covers(o) and sim.covers(t)):
            continue
        xs.append(sim.drift(o, t))
        rs.append(hist[t - first_year] - mean)
    if not xs:
        return covariate.coefficient(np.array([]), np.array([]))
    return covariate.coefficient(np.concatenate(xs), np.concatenate(rs))


def coefficient_at(
    origin: int,
    decl: ms.Measurement,
    path: str,
    sim: covariate.Simulated,
    first_year: int,
    horizons: tuple[int, ...],
    samples: int,
    seed: int,
) -> covariate.Coefficient:
    """The drift coefficient a forecast from ``origin`` uses: the core refitted at every earlier
    origin the simulation covers (after the anchor), its errors on targets up to ``origin``.
    """
    pairs = sim.pairs
    actors = {a: decl.states[a] for a in _actors(pairs)}
    core_means: dict[tuple[int, int], np.ndarray] = {}
    for o in range(decl.anchor[1], origin):
        if not sim.covers(o):
            continue
        fit = core.fit(unga.load(o, path), actors, first_year)
        for h in horizons:
            if o + h <= origin:
                core_means[(o, h)] = fit.distances(pairs, h, samples, seed).mean(axis=1)
    hist = history(decl, unga.load(origin, path), pairs, first_year)
    return _coefficient(sim, hist, core_means, origin, first_year)


def run(plan: Plan, progress: Callable[[str, int, int], None] | None = None) -> Evaluation:
    """Run the evaluation: forecasts at every origin, then the scores."""
    scenario = load_scenario(plan.scenario)
    decl = ms.load_declaration(plan.scenario, scenario.actor_ids)
    for a, b in plan.pairs:
        if (a, b) not in decl.pairs:
            raise SimInputError(
                "not a measured pair of the scenario",
                file=plan.source,
                field="evaluation.pairs",
                found=f"{a}-{b}",
                allowed=", ".join(f"{x}-{y}" for x, y in decl.pairs),
            )
    path = plan.data or str(decl.data_path())
    full = unga.load(ALL, path)
    last = max(full.years)
    observed = history(decl, full, plan.pairs, plan.first_year)
    sim = _simulate(plan, scenario, decl, path, last)
    core_means: dict[tuple[int, int], np.ndarray] = {}
    rows, coefs = [], []
    origins = [o for o in plan.origins if o <= last]
    for k, origin in enumerate(origins):
        if progress:
            progress("origins", k, len(origins))
        data = unga.load(origin, path)
        draws, coef = forecast_origin(plan, decl, data, sim, core_means)
        if coef is not None:
            lo, hi = coef.interval()
            coefs.append((origin, coef.beta, coef.se, lo, hi, coef.n))
        for (name, h), per_pair in draws.items():
            t = origin + h
            for p, d in enumerate(per_pair):
                y = observed[t - plan.first_year, p] if t <= last else np.nan
                rows.append(_row(name, origin, h, plan.pairs[p], d, y, plan.intervals))
    if progress:
        progress("origins", len(origins), len(origins))
    table = pd.DataFrame(rows)
    coef_table = pd.DataFrame(coefs, columns=["origin", "beta", "se", "low", "high", "n"])
    return _score(plan, table, coef_table, full, last)


def _simulate(plan, scenario, decl, path, last) -> covariate.Simulated | None:
    model = [f for f in plan.forecasters if f.kind in ("model", "core_model")]
    if not model:
        return None
    runs = max(f.runs for f in model)
    years = range(plan.first_year, max(plan.origins) + max(plan.horizons) + 1)
    calibrated = [f for f in model if f.calibration]
    if len({f.calibration for f in calibrated}) > 1:
        raise SimInputError(
            "the model forecasters must share one calibration",
            file=plan.source,
            field=f"forecasters.{calibrated[-1].name}.calibration",
        )
    calibration = calibrated[0].calibration if calibrated else ""
    if calibration:
        # Refuse a leak before any simulation: the first origin at which the model forecasts.
        from sim.validation.calibration.posterior import read_metadata

        until = int(read_metadata(calibration).get("until", 0))
        first = [
            o
            for o in plan.origins
            if o <= last
            and o >= decl.anchor[1]
            and ms.session_span(o, decl, scenario.start)[1] >= 1
        ]
        field = f"forecasters.{calibrated[0].name}.calibration"
        for origin in first[:1]:
            covariate.check_calibration(until, origin, plan.source, field)
    priors = ms.priors(decl, unga.load(decl.anchor[1], path))
    sim = covariate.simulate(scenario, decl, years, runs, plan.seed, priors, calibration)
    return sim.subset(plan.pairs)


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _row(name, origin, h, pair, draws, y, intervals) -> dict:
    q = np.quantile(draws, QUANTILES)
    row = {
        "forecaster": name,
        "origin": origin,
        "horizon": h,
        "target": origin + h,
        "pair": f"{pair[0]}-{pair[1]}",
        "observed": y,
        "mean": float(np.mean(draws)),
        **{f"q{int(p * 100):02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
        "crps": np.nan,
        "pit": np.nan,
    }
    for level in intervals:
        row[f"cover_{int(round(level * 100))}"] = np.nan
    if np.isfinite(y):
        row["crps"] = scores.crps(draws, y)
        row["pit"] = scores.pit(draws, y)
        for level in intervals:
            row[f"cover_{int(round(level * 100))}"] = float(scores.covered(draws, y, level))
    return row


def _summary(scored: pd.DataFrame, covers: list[str]) -> pd.DataFrame:
    parts = []
    for by in (None, "pair", "horizon"):
        g = scored.groupby(["forecaster"] + ([by] if by else []), sort=False)
        s = g.agg(n=("crps", "size"), crps=("crps", "mean"), **{c: (c, "mean") for c in covers})
        s = s.reset_index()
        s.insert(1, "group", "all" if by is None else s[by].map(lambda v, b=by: f"{b}={v}"))
        parts.append(s.drop(columns=[by]) if by else s)
    return pd.concat(parts, ignore_index=True)


def _score(plan: Plan, table: pd.DataFrame, coefs: pd.DataFrame, full, last) -> Evaluation:
    scored = table[table.crps.notna()]
    covers = [c for c in table.columns if c.startswith("cover_")]
    summary = _summary(scored, covers)
    overall = summary[summary.group == "all"].set_index("forecaster").crps
    naive_names = [f.name for f in plan.forecasters if f.naive and f.name in overall]
    reference = plan.reference
    if reference == "best_naive":
        if not naive_names:
            raise SimInputError("no naive forecaster scored", file=plan.source, field="forecasters")
        reference = min(naive_names, key=lambda n: overall[n])
    groups = [("all", scored)] + [
        (f"pair={a}-{b}", scored[scored.pair == f"{a}-{b}"]) for a, b in plan.pairs
    ]
    paired = [
        {
            "forecaster": f.name,
            "reference": reference,
            "group": group,
            **scores.paired(part, f.name, reference, plan.block, plan.replicates, plan.seed),
        }
        for f in plan.forecasters
        if f.name != reference
        for group, part in groups
    ]
    pit = [
        {"forecaster": name, "bin": b, "share": float(v)}
        for name, g in scored.groupby("forecaster", sort=False)
        for b, v in enumerate(scores.pit_histogram(g.pit, plan.pit_bins))
    ]
    return Evaluation(
        plan=plan,
        forecasts=table,
        coefficients=coefs,
        summary=summary,
        paired=pd.DataFrame(paired),
        pit=pd.DataFrame(pit),
        reference=reference,
        data_file=full.source,
        data_sha256=full.sha256,
        last_year=last,
    )
