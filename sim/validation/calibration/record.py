"""The calibration directory: self-describing, written under a temporary name, then moved.

Layout::

    metadata.json        kind "calibration": scenario, cutoff, seed, data file and its SHA-256,
                         measurement declaration, parameters with priors, statistics (observed),
                         sampler settings, screening settings, diagnostics, coverage, versions
    posterior.parquet    one row per particle: every calibrated parameter, then ``weight``
    history.db           pyabc's SQLite history (every generation)
    diagnostics.parquet  per generation: epsilon, evaluations, acceptance rate, ESS
    screening.parquet    Morris mu*, sigma per candidate (when screening chose the parameters)
    predictive.parquet   posterior predictive bands beside each observed point
    observed.parquet     the pair distances up to the cutoff (the data the fit saw)
    figures/             marginals, pairs, predictive, screening (PNG and SVG)

`rebuild` turns a calibration directory back into its `Problem` (e.g. to simulate the
posterior predictive again).
"""

from __future__ import annotations

from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim import results
from sim.validation.calibration import predictive as pred
from sim.validation.calibration.calibration import Calibration
from sim.validation.calibration.posterior import KIND, read_metadata
from sim.validation.calibration.problem import Problem
from sim.validation.calibration.screening import Screening


def versions() -> dict[str, str]:
    """Versions of the run's software, pyabc included."""
    out = results.versions()
    try:
        out["pyabc"] = importlib_metadata.version("pyabc")
    except importlib_metadata.PackageNotFoundError:
        out["pyabc"] = "not installed"
    return out


def metadata(
    cal: Calibration,
    screening: Screening | None,
    coverage: dict[str, float],
    *,
    command: list[str] | None,
    scenario_path: str,
    started: str,
    finished: str,
) -> dict[str, Any]:
    """The calibration's metadata record."""
    pb, st = cal.problem, cal.settings
    decl = pb.declaration
    values = pb.scenario.parameters()
    return {
        "format": results.FORMAT,
        "format_version": results.FORMAT_VERSION,
        "kind": KIND,
        "command": command,
        "scenario_name": pb.scenario.name,
        "scenario_source": scenario_path,
        "scenario": pb.scenario.raw,
        "seed": pb.seed,
        "until": pb.until,
        "data": {"file": pb.data_file, "sha256": pb.data_sha256, "years": list(pb.observed.years)},
        "measurement": {
            "declaration": decl.source,
            "states": {a: list(s) for a, s in decl.states.items()},
            "pairs": [list(p) for p in decl.pairs],
            "anchor": list(decl.anchor),
            "session_months": list(decl.session_months),
            "anchor_distance": dict(
                zip(
                    [f"{a}-{b}" for a, b in decl.pairs], map(float, pb.observed.anchor), strict=True
                )
            ),
        },
        "parameters_calibrated": list(pb.names),
        "priors": [
            {
                "name": n,
                "distribution": "uniform",
                "low": float(lo),
                "high": float(hi),
                "reason": r,
                "scenario_value": values.get(n),
            }
            for n, lo, hi, r in zip(pb.names, pb.low, pb.high, pb.reasons, strict=True)
        ],
        "statistics": pb.observed_statistics(),
        "months_simulated": pb.months,
        "settings": {
            "population": st.population,
            "generations": st.generations,
            "min_acceptance_rate": st.min_acceptance_rate,
            "sampler": "dask" if st.scheduler else st.sampler,
            "scheduler": st.scheduler,
            "workers": st.workers if st.sampler == "multicore" else 1,
            "distance": "pyabc AdaptivePNormDistance(p=2), scales by MAD",
            "epsilon": "pyabc default: median of the previous generation's distances",
        },
        "screening": None
        if screening is None
        else {
            "method": "SALib Morris, 4 levels",
            "trajectories": screening.trajectories,
            "replicates": screening.replicates,
            "seed": screening.seed,
            "runs": screening.runs,
            "candidates": len(screening.table),
        },
        "diagnostics": cal.diagnostics.to_dict(orient="records"),
        "predictive_coverage": coverage,
        "seconds": round(cal.seconds, 2),
        "versions": versions(),
        "started": started,
        "finished": finished,
    }


def write(
    tmp: Path,
    cal: Calibration,
    screening: Screening | None,
    bands,
    meta: dict[str, Any],
) -> None:
    """Write the tables and metadata of a calibration into the (temporary) directory."""
    results.write_table(cal.posterior, tmp / "posterior.parquet")
    results.write_table(cal.diagnostics, tmp / "diagnostics.parquet")
    results.write_table(bands, tmp / "predictive.parquet")
    results.write_table(cal.problem.observed.history, tmp / "observed.parquet")
    if screening is not None:
        results.write_table(screening.table, tmp / "screening.parquet")
    results.write_json(meta, tmp / "metadata.json")


def rebuild(path: str | Path, scenario_path: str | Path | None = None) -> Problem:
    """The `Problem` a calibration directory solved: same scenario, names, cutoff and seed.

    The scenario is re-read from ``scenario_path`` (default: the recorded source) and must
    still hold the recorded numbers; the data file must still have the recorded hash.
    """
    from sim.errors import SimInputError
    from sim.scenario import load
    from sim.scenario.evidence import evidence_ranges
    from sim.validation.calibration import problem as problem_mod
    from sim.validation.data.measurement import PARAMETERS

    meta = read_metadata(path)
    source = str(scenario_path or meta["scenario_source"])
    sc = load(source)
    if dict(sc.raw) != meta["scenario"]:
        raise SimInputError(
            "the scenario changed since it was calibrated", file=source, allowed=str(path)
        )
    names = [n for n in meta["parameters_calibrated"] if n not in PARAMETERS]
    pb = problem_mod.build(sc, source, names, evidence_ranges(source), meta["until"], meta["seed"])
    if pb.data_sha256 != meta["data"]["sha256"]:
        raise SimInputError(
            "the data file changed since the calibration", file=pb.data_file, field="sha256"
        )
    return pb


def predictive_for(path: str | Path, draws: int = 1000, seed: int = 0, scenario_path=None):
    """Posterior predictive bands of a calibration directory, simulated anew."""
    import pandas as pd

    pb = rebuild(path, scenario_path)
    post = pd.read_parquet(Path(path) / "posterior.parquet")
    return pred.bands(pb, pred.simulate(pb, post, draws, seed))


def summary_lines(cal: Calibration, coverage: dict[str, float]) -> list[str]:
    """Posterior summaries for a terminal: per parameter, the scenario value, the weighted
    median and 90% credible interval, and how far the median moved in prior widths.
    """
    pb = cal.problem
    post = cal.posterior
    w = post["weight"].to_numpy()
    values = pb.scenario.parameters()
    lines = [f"{'parameter':<52} {'scenario':>9} {'median':>8}  {'90% credible':>17}  moved"]
    for n, lo, hi in zip(pb.names, pb.low, pb.high, strict=True):
        q = weighted_quantiles(post[n].to_numpy(), w, (0.05, 0.5, 0.95))
        ref = values.get(n)
        moved = f"{(q[1] - ref) / (hi - lo):+.2f}" if ref is not None else ""
        ref_text = f"{ref:9.3f}" if ref is not None else " " * 9
        lines.append(f"{n:<52} {ref_text} {q[1]:8.3f}  [{q[0]:7.3f}, {q[2]:7.3f}]  {moved}")
    lines.append(
        f"posterior predictive coverage of the observed points: {coverage['50%']:.0%} inside "
        f"the 50% bands, {coverage['90%']:.0%} inside the 90% bands"
    )
    return lines


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    """Quantiles of weighted samples (inverse of the weighted empirical CDF)."""
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / np.sum(w)
    return np.array([x[order][min(np.searchsorted(cdf, q), len(x) - 1)] for q in qs])
