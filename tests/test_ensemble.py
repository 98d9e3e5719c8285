"""Forecast ensembles: parameter draws within the evidence, from a posterior, or none."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.errors import SimInputError
from sim.scenario.evidence import scenario_evidence
from sim.validation.backtest import ensemble
from sim.validation.calibration import posterior

from .conftest import ROOT

HISTORY = ROOT / "scenarios" / "history_2015_2025.toml"


def test_evidence_draws_stay_in_their_ranges_and_skip_fixed_numbers():
    ens = ensemble.build(HISTORY, 40, seed=3, months=24)
    ranges = {e.name: e for e in scenario_evidence(HISTORY)}
    assert ens.varied and all(not ranges[n].fixed for n in ens.varied)
    assert "regimes.us_leaves_deal.month" not in ens.varied  # a date is a fact
    for name in ens.varied:
        field, cells = ens.params.locate[name]
        got = getattr(ens.params, field)[(slice(None), *cells[0])]
        assert len(got) == 40 and got.min() >= ranges[name].low and got.max() <= ranges[name].high
    assert ens.weights.sum() == pytest.approx(1.0)
    assert "evidence ranges" in ens.describe()


def test_same_seed_same_ensemble_different_seed_different():
    a = ensemble.build(HISTORY, 30, seed=3, months=24)
    b = ensemble.build(HISTORY, 30, seed=3, months=24)
    c = ensemble.build(HISTORY, 30, seed=4, months=24)
    assert a.traj.alignment.tobytes() == b.traj.alignment.tobytes()
    assert a.traj.alignment.tobytes() != c.traj.alignment.tobytes()


def test_results_do_not_depend_on_chunking(monkeypatch):
    whole = ensemble.build(HISTORY, 25, seed=3, months=12)
    monkeypatch.setattr(ensemble, "CHUNK", 7)
    parts = ensemble.build(HISTORY, 25, seed=3, months=12)
    np.testing.assert_array_equal(whole.traj.alignment, parts.traj.alignment)


def test_point_values_vary_nothing():
    ens = ensemble.build(HISTORY, 10, seed=3, months=12, source="point")
    assert ens.varied == () and ens.params.rows == 1


def calibration(folder, columns, scenario="baseline"):
    """A calibration directory as `sim calibrate` writes it (metadata and posterior)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [n for n in columns if n != "weight"]
    meta = {"kind": "calibration", "scenario_name": scenario, "until": 2019}
    meta["parameters_calibrated"] = names
    (folder / "metadata.json").write_text(json.dumps(meta))
    pd.DataFrame(columns).to_parquet(folder / "posterior.parquet")
    return folder


def test_a_posterior_of_the_base_scenario_is_drawn_by_weight(tmp_path):
    name = "actors.iran.weights.autonomy"
    cal = calibration(
        tmp_path / "cal",
        {name: [0.1, 0.9], "measurement.scale": [1.0, 2.0], "weight": [0.0, 1.0]},
    )
    ens = ensemble.build(HISTORY, 20, seed=3, months=12, source="posterior", posterior=cal)
    field, cells = ens.params.locate[name]
    assert set(getattr(ens.params, field)[(slice(None), *cells[0])]) == {0.9}
    assert ens.varied == (name,)  # measurement parameters are not scenario parameters
    assert ens.posterior == str(cal) and len(ens.posterior_sha256) == 64
    assert "posterior" in ens.describe()


def test_the_shipped_calibration_drives_the_history_scenario():
    cal = ROOT / "calibrations" / "baseline_until_2019"
    ens = ensemble.build(HISTORY, 30, seed=3, months=12, source="posterior", posterior=cal)
    post = posterior.load(cal)
    assert ens.varied == post.names and len(post.measurement_names) == 3
    for name, drawn in post.draw(30, 3).items():
        field, cells = ens.params.locate[name]
        np.testing.assert_array_equal(getattr(ens.params, field)[(slice(None), *cells[0])], drawn)


def test_a_posterior_of_an_unrelated_scenario_or_parameter_is_refused(tmp_path):
    name = "actors.iran.weights.autonomy"
    other = calibration(tmp_path / "a", {name: [0.5], "weight": [1.0]}, scenario="shared_war")
    with pytest.raises(SimInputError, match="another scenario") as err:
        ensemble.build(HISTORY, 5, seed=3, months=12, source="posterior", posterior=other)
    assert "history_2015_2025, baseline" in str(err.value)
    unknown = calibration(tmp_path / "b", {"actors.iran.colour": [1.0], "weight": [1.0]})
    with pytest.raises(SimInputError, match="actors.iran.colour"):
        ensemble.build(HISTORY, 5, seed=3, months=12, source="posterior", posterior=unknown)
    with pytest.raises(SimInputError, match="not a calibration directory"):
        ensemble.build(HISTORY, 5, seed=3, months=12, source="posterior", posterior=tmp_path / "x")
