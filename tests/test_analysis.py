import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from sim import analysis
from sim.errors import SimInputError

PARAMS = [
    {"name": "actors.russia.salience.ukraine", "low": 0.0, "high": 1.0},
    {"name": "events.western_offer.hazard", "low": 0.0, "high": 0.2},
    {"name": "actors.iran.temperature", "low": 0.1, "high": 1.0},
]


def _baseline_raw() -> dict:
    from sim.scenario import load

    return json.loads(
        json.dumps(load(Path(__file__).parent.parent / "scenarios" / "baseline.toml").raw)
    )


def make_sweep(root: Path, design: str = "sobol", replicates: int = 4, seed: int = 7) -> Path:
    """A small synthetic sweep directory in the `sim sweep` results format."""
    names = [p["name"] for p in PARAMS]
    problem = {
        "num_vars": len(PARAMS),
        "names": names,
        "bounds": [[p["low"], p["high"]] for p in PARAMS],
    }
    if design == "sobol":
        x = sobol_sample.sample(problem, 16, calc_second_order=False, seed=seed)
    elif design == "morris":
        x = morris_sample.sample(problem, 8, num_levels=4, seed=seed)
    else:
        axes = [np.linspace(p["low"], p["high"], 4) for p in PARAMS]
        x = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(PARAMS), -1).T
    rng = np.random.default_rng(seed)
    points = pd.DataFrame(x, columns=names)
    points.insert(0, "point", np.arange(len(points)))
    rows = points.loc[points.index.repeat(replicates)].reset_index(drop=True)
    rows.insert(1, "replicate", np.tile(np.arange(replicates), len(points)))
    n = len(rows)
    u = (rows[names[1]] - 0.0) / 0.2
    p_betray = 0.05 + 0.9 * (u > 0.5) * rows[names[0]]
    betrayal = rng.random(n) < p_betray
    partnership = rng.random(n) < 0.6 * (rows[names[2]] < 0.4)
    rows["alignment_final"] = np.tanh(rows[names[0]] - 2 * u) + 0.05 * rng.normal(size=n)
    rows["alignment_mean"] = rows["alignment_final"] * 0.9
    rows["partnership"] = partnership
    rows["partnership_month"] = pd.Series(rng.integers(1, 61, n), dtype="Int64").where(partnership)
    rows["betrayal"] = betrayal
    rows["betrayal_month"] = pd.Series(rng.integers(1, 61, n), dtype="Int64").where(betrayal)
    rows["response"] = pd.Categorical(np.where(betrayal, "hedge_west", "none"))
    rows["hedging_final"] = rng.normal(size=n)
    rows["hedging_mean"] = rng.normal(size=n)
    rows["blocs"] = "iran+russia | united_states+gulf"
    root.mkdir(parents=True, exist_ok=True)
    (root / "runs").mkdir()
    half = n // 2
    rows.iloc[:half].to_parquet(root / "runs" / "chunk-00000.parquet", index=False)
    rows.iloc[half:].to_parquet(root / "runs" / "chunk-00001.parquet", index=False)
    points.to_parquet(root / "points.parquet", index=False)
    meta = {
        "format": "sim-results",
        "format_version": 1,
        "kind": "sweep",
        "design": design,
        "parameters": PARAMS,
        "problem": problem,
        "seed": seed,
        "points": len(points),
        "replicates": replicates,
        "months": 60,
        "scenario_name": "baseline",
        "scenario": _baseline_raw(),
    }
    (root / "metadata.json").write_text(json.dumps(meta))
    return root


def test_wilson_known_value():
    # Wilson 95% interval for 7/10: (0.3968, 0.8922) (Newcombe 1998, table I)
    p, lo, hi = analysis.wilson(7, 10)
    assert p == 0.7
    assert lo == pytest.approx(0.3968, abs=1e-4)
    assert hi == pytest.approx(0.8922, abs=1e-4)
    assert analysis.wilson(0, 20)[1] == 0.0
    assert np.isnan(analysis.wilson(0, 0)[0])


def test_summary_counts_and_skips_missing_columns(baseline):
    from sim.analysis import summary

    runs = pd.DataFrame({"betrayal": [True, False, True, True], "partnership": [False] * 4})
    runs["betrayal_month"] = pd.array([3, None, 5, 9], dtype="Int64")
    h = summary.summarise(runs, baseline, 120).set_index(["outcome", "key"])
    assert (
        h.loc[("betrayal", "p"), "value"] == 0.75 and "(3 of 4)" in h.loc[("betrayal", "p"), "note"]
    )
    assert h.loc[("betrayal", "median_month"), "value"] == 5
    assert h.loc[("partnership", "p"), "value"] == 0
    assert h.loc[("betrayal", "p"), "low95"] < 0.75 < h.loc[("betrayal", "p"), "high95"]
    assert ("betrayal", "p_offered") not in h.index  # no such column: left out
    assert ("hedging", "p") not in h.index


def test_one_summary_for_the_api_and_the_report(baseline):
    from sim import api
    from sim.analysis import summary

    res = api.simulate(baseline, replicates=30, seed=2, months=36, keep_series=False)
    pd.testing.assert_frame_equal(res.summary(), summary.summarise(res.runs, baseline, 36))
    keys = set(res.summary().key)
    assert {"p", "p_offered", "median_month", "p_bloc_change"} <= keys


def test_survival_matches_hand_computation():
    months = pd.Series(pd.array([1, 1, 2, None, None], dtype="Int64"))
    km = analysis.survival(months, horizon=3)
    assert list(km.at_risk) == [5, 5, 3, 2]
    assert list(km.events) == [0, 2, 1, 0]
    assert km.survival.tolist() == pytest.approx([1.0, 0.6, 0.4, 0.4])
    assert km.hazard.iloc[2] == pytest.approx(1 / 3)


def test_survival_without_events_stays_at_one():
    km = analysis.survival(pd.Series(pd.array([None] * 4, dtype="Int64")), horizon=5)
    assert (km.survival == 1).all()


def test_sobol_ishigami_matches_analytic_indices():
    problem = {
        "num_vars": 3,
        "names": ["x1", "x2", "x3"],
        "bounds": [[-np.pi, np.pi]] * 3,
    }
    x = sobol_sample.sample(problem, 1024, calc_second_order=False, seed=1)
    y = Ishigami.evaluate(x)
    meta = {"problem": problem, "seed": 1, "design": "sobol"}
    idx = analysis.sobol(y, meta)  # second-order flag inferred from the sample size
    assert idx.S1.to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert idx.ST.to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    assert (idx.S1_conf > 0).all()


def test_sobol_second_order_inference():
    assert analysis.sobol_second_order(16 * 8, 3) is True
    assert analysis.sobol_second_order(16 * 5, 3) is False
    with pytest.raises(SimInputError):
        analysis.sobol_second_order(7, 3)


def test_sweep_loading_and_point_means(tmp_path):
    res = analysis.load(make_sweep(tmp_path / "sw"))
    assert res.kind == "sweep" and len(res.runs) == len(res.points) * 4
    y = analysis.point_means(res.runs, res.points, "betrayal")
    assert y.shape == (len(res.points),)
    expected = res.runs[res.runs.point == 3].betrayal.mean()
    assert y[3] == pytest.approx(expected)


def test_sweep_sensitivity_ranks_the_driving_parameter(tmp_path):
    res = analysis.load(make_sweep(tmp_path / "sw", replicates=3))
    idx = analysis.sensitivity(res.runs, res.points, res.meta, "alignment_final")
    assert idx.ST.idxmax() == PARAMS[1]["name"]
    mo = analysis.load(make_sweep(tmp_path / "mo", design="morris"))
    idx = analysis.sensitivity(mo.runs, mo.points, mo.meta, "alignment_final")
    assert set(idx.columns) >= {"mu_star", "sigma"}
    assert idx.mu_star.idxmax() == PARAMS[1]["name"]
    grid = analysis.load(make_sweep(tmp_path / "gr", design="grid"))
    assert analysis.sensitivity(grid.runs, grid.points, grid.meta, "betrayal") is None


def test_probability_grid_marginalises(tmp_path):
    res = analysis.load(make_sweep(tmp_path / "gr", design="grid"))
    a, b = PARAMS[0]["name"], PARAMS[1]["name"]
    table = analysis.probability_grid(res.runs, a, b, "betrayal", bins=4)
    assert table.shape == (4, 4)
    assert table.attrs["runs"].to_numpy().sum() == len(res.runs)
    assert ((table >= 0) & (table <= 1)).all().all()
    # betrayal needs a high offer hazard: low-hazard rows are rarer than high-hazard rows
    assert table.iloc[0].mean() < table.iloc[-1].mean()


def test_load_rejects_a_folder_without_metadata(tmp_path):
    with pytest.raises(SimInputError):
        analysis.load(tmp_path)
