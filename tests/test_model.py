import mesa
import numpy as np
import pandas as pd
import pytest

from sim.model import AllianceModel, engine, outcomes, rng
from sim.model.params import compile_params

from .conftest import BASELINE


@pytest.mark.parametrize("seed,replicate", [(7, 0), (7, 3), (123, 1)])
def test_mesa_model_equals_array_engine(baseline, seed, replicate):
    model = AllianceModel(BASELINE, seed=seed, months=48, replicate=replicate)
    while model.running:
        model.step()
    params = compile_params(baseline)
    keys = rng.run_keys(seed, np.zeros(replicate + 1, np.uint64), np.arange(replicate + 1))
    traj = engine.simulate(params, keys, 48)
    mesa_traj = model.trajectory()
    np.testing.assert_array_equal(mesa_traj.alignment[0], traj.alignment[replicate])
    np.testing.assert_array_equal(mesa_traj.actions[0], traj.actions[replicate])
    expected = outcomes.run_table(traj, params).iloc[[replicate]].reset_index(drop=True)
    got = model.run_table()
    pd.testing.assert_frame_equal(got.drop(columns="replicate"), expected.drop(columns="replicate"))


def test_one_agent_per_actor_and_datacollector_reports_outcomes():
    model = AllianceModel(BASELINE, seed=1, months=12)
    assert sorted(a.actor_id for a in model.agents) == sorted(model.params.actors)
    while model.running:
        model.step()
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 12  # one row per month
    last = df.iloc[-1]
    for name in ("alignment", "hedging", "partnership", "betrayal", "betrayal_month", "blocs"):
        assert name in df.columns
    assert isinstance(last.betrayal, bool)
    agents = model.datacollector.get_agent_vars_dataframe()
    assert set(agents.action.dropna()) - {""} <= {a for acts in model.params.actions for a in acts}


def test_batch_run_varies_a_parameter():
    results = mesa.batch_run(
        AllianceModel,
        parameters={
            "scenario": str(BASELINE),
            "months": 24,
            "seed": [1, 2],
            "actors.russia.salience.ukraine": [0.2, 0.9],
        },
        iterations=1,
        max_steps=100,
        number_processes=1,
        display_progress=False,
    )
    # One row per agent (agent reporters), so one run has four rows.
    df = pd.DataFrame(results).drop_duplicates("RunId")
    assert len(df) == 4
    assert set(df["actors.russia.salience.ukraine"]) == {0.2, 0.9}
    assert df.betrayal.notna().all() and df.alignment_final.between(-1, 1).all()
    assert (df.Step == 23).all()  # batch_run's 0-based index of the last month


def test_overrides_reach_the_model():
    model = AllianceModel(BASELINE, seed=1, **{"alignment.iran.russia": -0.5})
    i, j = model.params.pair
    assert model.state.alignment[0, i, j] == pytest.approx(-0.5)
