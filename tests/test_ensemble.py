"""Forecast ensembles: parameter draws within the evidence, from a posterior, or none."""

import numpy as np
import pandas as pd
import pytest

from sim.errors import SimInputError
from sim.scenario.evidence import scenario_evidence
from sim.validation import ensemble

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


def test_a_posterior_is_resampled_by_weight(tmp_path):
    name = "actors.iran.weights.autonomy"
    pd.DataFrame({name: [0.1, 0.9], "weight": [0.0, 1.0]}).to_parquet(
        tmp_path / "posterior.parquet"
    )
    ens = ensemble.build(HISTORY, 20, seed=3, months=12, source="posterior", posterior=tmp_path)
    field, cells = ens.params.locate[name]
    assert set(getattr(ens.params, field)[(slice(None), *cells[0])]) == {0.9}
    assert ens.posterior_sha256 and ens.varied == (name,)


def test_a_posterior_with_an_unknown_parameter_is_refused(tmp_path):
    pd.DataFrame({"actors.iran.colour": [1.0]}).to_parquet(tmp_path / "posterior.parquet")
    with pytest.raises(SimInputError, match="actors.iran.colour"):
        ensemble.build(HISTORY, 5, seed=3, months=12, source="posterior", posterior=tmp_path)
    with pytest.raises(SimInputError, match="no posterior"):
        ensemble.build(HISTORY, 5, seed=3, months=12, source="posterior", posterior=tmp_path / "x")
