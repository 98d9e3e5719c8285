import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.model import engine, rng
from sim.model.params import compile_params

from .conftest import BASELINE


def test_same_seed_same_bytes():
    a = api.simulate(BASELINE, replicates=40, seed=7, months=36)
    b = api.simulate(BASELINE, replicates=40, seed=7, months=36)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.series, b.series)
    assert a.runs.to_parquet() == b.runs.to_parquet()


def test_different_seed_different_results():
    a = api.simulate(BASELINE, replicates=40, seed=7, months=36)
    b = api.simulate(BASELINE, replicates=40, seed=8, months=36)
    assert not np.array_equal(a.runs.alignment_final, b.runs.alignment_final)


def test_results_do_not_depend_on_batching(baseline, monkeypatch):
    params = compile_params(baseline)
    keys = rng.run_keys(3, np.zeros(30, np.uint64), np.arange(30))
    whole = engine.simulate(params, keys, 24)
    parts = [engine.simulate(params, keys[i : i + 7], 24) for i in range(0, 30, 7)]
    np.testing.assert_array_equal(whole.alignment, np.concatenate([p.alignment for p in parts]))
    np.testing.assert_array_equal(whole.actions, np.concatenate([p.actions for p in parts]))
    monkeypatch.setattr(api, "CHUNK", 9)
    small = api.simulate(BASELINE, replicates=30, seed=3, months=24)
    monkeypatch.undo()
    big = api.simulate(BASELINE, replicates=30, seed=3, months=24)
    pd.testing.assert_frame_equal(small.runs, big.runs)


@pytest.mark.parametrize("name", ["actors.russia.salience.ukraine", "dynamics.balance"])
def test_per_row_parameters_match_separate_runs(baseline, name):
    # dynamics.balance: one pull weight per row while the other three stay shared
    params = compile_params(baseline)
    keys = rng.run_keys(5, np.zeros(2, np.uint64), np.arange(2))
    rows = params.assign({name: np.array([0.2, 0.9])})
    both = engine.simulate(rows, keys, 30)
    for r, value in enumerate((0.2, 0.9)):
        alone = engine.simulate(
            compile_params(baseline.with_overrides({name: value})), keys[r : r + 1], 30
        )
        np.testing.assert_array_equal(both.alignment[r], alone.alignment[0])


def test_per_row_regime_values_match_separate_runs():
    # A regime's value varies per row while its month stays shared.
    from sim.scenario import load

    params = compile_params(load(BASELINE.parent / "shared_war.toml"))
    keys = rng.run_keys(5, np.zeros(2, np.uint64), np.arange(2))
    name = "regimes.shared_war.set.issues.syria_survival.stake"
    both = engine.simulate(params.assign({name: np.array([2.0, 4.0])}), keys, 12)
    for r, value in enumerate((2.0, 4.0)):
        alone = engine.simulate(params.assign({name: np.array([value])}), keys[r : r + 1], 12)
        np.testing.assert_array_equal(both.alignment[r], alone.alignment[0])
    assert not np.array_equal(both.alignment[0], both.alignment[1])


def test_outcomes_are_well_formed(baseline):
    res = api.simulate(BASELINE, replicates=50, seed=1, months=60)
    runs = res.runs
    assert len(runs) == 50 and runs.replicate.tolist() == list(range(50))
    assert runs.alignment_final.between(-1, 1).all()
    assert (runs.betrayal == runs.betrayal_month.notna()).all()
    assert runs.betrayal_month.dropna().between(1, 60).all()
    assert (runs.partnership == runs.partnership_month.notna()).all()
    iran = next(a for a in baseline.actors if a.id == "iran")
    assert set(runs.betrayal_response.dropna()) <= {"none", *(x.id for x in iran.actions)}
    assert (runs.betrayal_response == "none").eq(~runs.betrayal).all()
    assert (runs.betrayal_episodes > 0).eq(runs.betrayal).all()
    assert (runs.betrayal_length.dropna() >= 1).all()
    assert set(res.series.month) == set(range(61))


def test_one_pull_weight_may_vary_per_row(baseline):
    """Sweeping one of the drift's four pull weights leaves the other three shared."""
    params = compile_params(baseline).assign({"dynamics.balance": np.array([0.0, 2.0])})
    assert params.derived.weights.shape == (2, 4)
    keys = rng.run_keys(5, np.zeros(2, np.uint64), np.arange(2))
    both = engine.simulate(params, keys, 24)
    for r, value in enumerate((0.0, 2.0)):
        alone = compile_params(baseline.with_overrides({"dynamics.balance": value}))
        np.testing.assert_array_equal(
            both.alignment[r], engine.simulate(alone, keys[r : r + 1], 24).alignment[0]
        )
