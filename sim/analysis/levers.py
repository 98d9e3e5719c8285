"""Levers: which swept parameters drive an outcome, and where in their ranges it is likely.

"What would it take for a partnership, or to avoid a betrayal?" is asked of a sweep's runs
(`sim sweep`; each run row holds its point's parameter values) in two steps, both with EMA
Workbench's implementations (``ema_workbench.analysis``, extra ``analysis``):

1. **Feature scoring**: extra-trees feature importances of the parameters for the case of
   interest (``feature_scoring.get_ex_feature_scores``): a ranking of influence that sees
   non-linear effects and interactions.
2. **Scenario discovery**: PRIM (Friedman and Fisher 1999) with peeling *and* pasting and
   quasi-p-values per restricted limit (Bryant and Lempert 2010), ``prim.Prim.find_box``.
   The peeling-and-pasting trajectory trades **coverage** (share of all cases inside the box)
   against **density** (share of runs inside the box that are cases). The box reported is the
   one of highest coverage whose density reaches the requested ``density``.

A `Case` defines the cases of interest: an outcome, a direction and a threshold, per run
(``betrayal`` is false in the run) or per design point (the point's share of runs with a
betrayal is below 0.1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import SimInputError

INSTALL_HINT = "pip install 'sim[analysis]'  (or: pip install 'ema_workbench>=2.5')"
UNITS = ("run", "point")
SIGNIFICANT = 0.05  # a limit whose quasi-p-value is above this could be dropped from the box


def auto_density(base_rate: float) -> float:
    """The default density target: halfway from the base rate to 1, i.e. a region where
    runs that are not cases are half as frequent as over the whole sweep.
    """
    return (1.0 + base_rate) / 2.0


@dataclass(frozen=True)
class Case:
    """Which runs (or design points) count as cases of interest.

    ``direction`` is "above" (value > threshold) or "below" (value < threshold). For a
    true/false outcome per run the threshold is 0.5: "above" means it happened, "below" that
    it did not.
    """

    outcome: str
    direction: str = "above"
    threshold: float = 0.5
    per: str = "run"
    boolean: bool = False  # a true/false outcome (its mean per point is a probability)

    def describe(self) -> str:
        """The case in words, e.g. "betrayal is false" or "P(betrayal) per point < 0.1"."""
        if self.per == "run" and self.threshold == 0.5 and self.boolean:
            return f"{self.outcome} is {'true' if self.direction == 'above' else 'false'}"
        what = f"mean {self.outcome} per point" if self.per == "point" else self.outcome
        if self.per == "point" and self.boolean:
            what = f"P({self.outcome}) per point"
        sign = ">" if self.direction == "above" else "<"
        return f"{what} {sign} {self.threshold:g}"

    def table(self, runs: pd.DataFrame, parameters: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
        """The parameters (x) and case flags (y) per run or per design point."""
        values = runs[self.outcome]
        if self.per == "point":
            frame = runs[["point", *parameters]].copy()
            frame["value"] = values.astype(float)
            grouped = frame.groupby("point")
            x = grouped[parameters].first().reset_index(drop=True)
            v = grouped["value"].mean().to_numpy()
        else:
            x = runs[parameters].reset_index(drop=True)
            v = values.astype(float).to_numpy()
        y = v > self.threshold if self.direction == "above" else v < self.threshold
        return x, y & ~np.isnan(v)


def case(
    runs: pd.DataFrame,
    outcome: str,
    above: float | None = None,
    below: float | None = None,
    per: str = "run",
) -> Case:
    """Check and build a case definition against a sweep's run table."""
    if outcome not in runs:
        usable = [
            c
            for c in runs.columns
            if pd.api.types.is_bool_dtype(runs[c]) or pd.api.types.is_numeric_dtype(runs[c])
        ]
        raise SimInputError(
            "no such outcome in the sweep's runs",
            field="--outcome",
            found=outcome,
            allowed=", ".join(c for c in usable if c not in ("point", "replicate")),
        )
    col = runs[outcome]
    boolean = pd.api.types.is_bool_dtype(col)
    if not (boolean or pd.api.types.is_numeric_dtype(col)):
        raise SimInputError("not a numeric or true/false outcome", field="--outcome", found=outcome)
    if per not in UNITS:
        raise SimInputError("unknown unit", field="--per", found=per, allowed=", ".join(UNITS))
    if above is not None and below is not None:
        raise SimInputError("give --above or --below, not both", field="--above/--below")
    if above is None and below is None:
        if not boolean:
            raise SimInputError(
                "a numeric outcome needs a threshold", field="--above/--below", found=outcome
            )
        above = 0.5
    direction, threshold = ("above", above) if above is not None else ("below", below)
    return Case(outcome, direction, float(threshold), per, boolean)


@dataclass(frozen=True)
class Box:
    """The region PRIM found: limits of the restricted parameters and the box's statistics."""

    limits: dict[str, tuple[float, float]]  # restricted parameters only
    ranges: dict[str, tuple[float, float]]  # every parameter's sampled range
    quasi_p: dict[str, tuple[float | None, float | None]]  # per restricted limit (None: open)
    coverage: float
    density: float
    mass: float
    step: int  # index of the box on the trajectory
    met: bool  # whether its density reaches the requested density
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per step

    def describe(self) -> str:
        """The box in one line, e.g. ``a <= 0.02 and 0.6 <= b <= 0.9``."""
        parts = []
        for name, (lo, hi) in self.limits.items():
            r_lo, r_hi = self.ranges[name]
            if lo > r_lo and hi < r_hi:
                parts.append(f"{lo:.3g} <= {name} <= {hi:.3g}")
            elif lo > r_lo:
                parts.append(f"{name} >= {lo:.3g}")
            else:
                parts.append(f"{name} <= {hi:.3g}")
        return " and ".join(parts) or "no restriction (the whole sampled space)"


@dataclass(frozen=True)
class Levers:
    """Feature scores and the PRIM box of one case over one sweep."""

    case: Case
    density_target: float
    units: int  # runs or points analysed
    cases: int
    scores: pd.Series  # parameter -> feature score, largest first
    box: Box | None  # None when the case never or always holds
    note: str  # why there is no box, or what the box means

    @property
    def base_rate(self) -> float:
        """Share of runs (or points) that are cases."""
        return self.cases / self.units if self.units else float("nan")


def _ema():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import feature_scoring, prim
            from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    except ImportError:
        raise SimInputError(
            "lever analysis needs ema_workbench, which is not installed",
            field="ema_workbench",
            allowed=INSTALL_HINT,
        ) from None
    return feature_scoring, prim, RuleInductionType


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.Series:
    """Extra-trees feature scores of the parameters for the case flags ``y`` (sum to 1)."""
    feature_scoring, _, kind = _ema()
    scores, _ = feature_scoring.get_ex_feature_scores(
        x,
        np.asarray(y, dtype=int),
        mode=kind.CLASSIFICATION,
        max_features=max(1, round(x.shape[1] / 3)),
        random_state=seed,
    )
    return pd.Series(scores.iloc[:, 0].to_numpy(), index=list(scores.index), name="score")


def find_box(
    x: pd.DataFrame,
    y: np.ndarray,
    density: float = 0.8,
    *,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Box:
    """PRIM with peeling and pasting (EMA Workbench); the box of highest coverage on the
    trajectory whose density reaches ``density`` (else the densest box, ``met`` False).
    """
    _, prim, _ = _ema()
    y = np.asarray(y, dtype=int)
    # EMA keeps a box only if its density reaches `threshold`; a threshold below any density
    # keeps the whole trajectory, and the density target then chooses a box on it.
    # (In binary mode the cases of interest are y >= threshold, i.e. y == 1, either way.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(
            x.reset_index(drop=True),
            y,
            threshold=1e-9,
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=mass_min,
        )
        found = p.find_box()
    traj = found.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float)
    good = traj.index[traj.density >= density - 1e-12]
    if len(good):
        step = int(traj.loc[good].sort_values(["coverage", "density"]).index[-1])
    else:
        step = int(traj.sort_values(["density", "coverage"]).index[-1])
    lims, init = found.box_lims[step], p.box_init
    ranges = {c: (float(init[c].iloc[0]), float(init[c].iloc[1])) for c in init.columns}
    restricted = [c for c in lims.columns if not np.array_equal(lims[c].values, init[c].values)]
    qp = found.qp[step]

    def q(v: float) -> float | None:
        return None if v < 0 else float(v)

    return Box(
        limits={c: (float(lims[c].iloc[0]), float(lims[c].iloc[1])) for c in restricted},
        ranges=ranges,
        quasi_p={c: (q(qp[c][0]), q(qp[c][1])) for c in restricted if c in qp},
        coverage=float(traj.coverage[step]),
        density=float(traj.density[step]),
        mass=float(traj.mass[step]),
        step=step,
        met=bool(traj.density[step] >= density - 1e-12),
        trajectory=traj.reset_index(drop=True),
    )


def levers(
    runs: pd.DataFrame,
    parameters: list[str],
    c: Case,
    density: float | None = None,
    *,
    seed: int = 0,
    **prim_options: Any,
) -> Levers:
    """Feature scores and the PRIM box of case ``c`` over a sweep's runs; ``density`` is the
    density target (default `auto_density` of the base rate).
    """
    if density is not None and not 0 < density <= 1:
        raise SimInputError("must be in (0, 1]", field="--density", found=density)
    missing = [p for p in parameters if p not in runs]
    if missing or not parameters:
        raise SimInputError(
            "the run table lacks swept parameter columns (not a sweep?)",
            field="parameters",
            found=missing or parameters,
        )
    x, y = c.table(runs, parameters)
    varying = [p for p in parameters if x[p].nunique() > 1]
    n, k = len(y), int(y.sum())
    if density is None:
        density = auto_density(k / n) if n else 0.8
    empty = pd.Series(dtype=float, name="score")
    if k == 0 or k == n:
        what = "never" if k == 0 else "always"
        note = (
            f"The case ({c.describe()}) {what} holds in the {n} {c.per}s of this sweep: "
            "nothing separates cases from the rest, so there is no lever to find. "
            + (
                "Widen the swept ranges or loosen the threshold."
                if k == 0
                else "It holds everywhere sampled; ask for a stricter threshold."
            )
        )
        return Levers(c, density, n, k, empty, None, note)
    if not varying:
        return Levers(c, density, n, k, empty, None, "No swept parameter varies in this sweep.")
    x = x[varying]
    scores = feature_scores(x, y, seed)
    box = find_box(x, y, density, **prim_options)
    base = k / n
    if base >= density:
        note = (
            f"The whole sampled space already reaches the density {density:.0%} "
            f"(base rate {base:.0%}): no restriction is needed; ask for a higher --density to "
            "find where the case is near certain."
        )
    elif not box.met:
        note = (
            f"No region reaches a density of {density:.0%}; the densest box PRIM found has "
            f"{box.density:.0%} (base rate {base:.0%}). The case is not made likely by these "
            "parameters alone within their sampled ranges."
        )
    else:
        note = (
            f"In this region {box.density:.0%} of {c.per}s are cases (base rate {base:.0%}); it "
            f"holds {box.coverage:.0%} of all cases and {box.mass:.0%} of the {c.per}s."
        )
    return Levers(c, density, n, k, scores, box, note)


def describe(lv: Levers, top: int = 8) -> str:
    """The analysis in words: the ranking, then the region and its quasi-p-values."""
    c = lv.case
    lines = [
        f"Case: {c.describe()} ({lv.cases} of {lv.units} {c.per}s, base rate {lv.base_rate:.1%})."
    ]
    if len(lv.scores):
        lines.append("Influence on the case (extra-trees feature scores; sum to 1):")
        lines += [f"  {v:.3f}  {name}" for name, v in lv.scores.head(top).items()]
    if lv.box is not None:
        b = lv.box
        lines.append(
            f"Region (PRIM with pasting, density target {lv.density_target:.0%}): {b.describe()}"
        )
        for name in b.limits:
            lo, hi = b.quasi_p.get(name, (None, None))
            ps = ", ".join(
                f"{side} limit quasi-p {v:.2g}" + (" (not significant)" if v > SIGNIFICANT else "")
                for side, v in (("lower", lo), ("upper", hi))
                if v is not None
            )
            lines.append(f"  {name}: {ps}")
        lines.append(
            f"  coverage {b.coverage:.0%}, density {b.density:.0%}, mass {b.mass:.0%} "
            f"(step {b.step} of {len(b.trajectory) - 1} on the trajectory)"
        )
    lines.append(lv.note)
    return "\n".join(lines)
