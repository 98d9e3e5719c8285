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
    assert len(df) == 13  # one row per month, month 0 included
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
    assert (df.Step == 24).all()  # the last row batch_run reads is the final month


def test_overrides_reach_the_model():
    model = AllianceModel(BASELINE, seed=1, **{"alignment.iran.russia": -0.5})
    i, j = model.params.pair
    assert model.state.alignment[0, i, j] == pytest.approx(-0.5)


def _direct(seed: int, months: int) -> AllianceModel:
    model = AllianceModel(BASELINE, seed=seed, months=months)
    while model.running:
        model.step()
    return model


def _action_names(model: AllianceModel, month: int) -> dict[str, str]:
    """Each actor's action in a month (1-based); '' for month 0."""
    if month == 0:
        return {a: "" for a in model.params.actors}
    acts = model.trajectory().actions[0, month - 1]
    return {a: model.params.actions[i][acts[i]] for i, a in enumerate(model.params.actors)}


@pytest.mark.parametrize("seed", [3, 11])
def test_batch_run_step_k_holds_month_k_for_model_and_agent_rows(seed):
    months = 6
    rows = pd.DataFrame(
        mesa.batch_run(
            AllianceModel,
            parameters={"scenario": str(BASELINE), "months": months, "seed": seed},
            data_collection_period=1,
            number_processes=1,
            display_progress=False,
        )
    )
    direct = _direct(seed, months)
    traj = direct.trajectory()
    i, j = direct.params.pair
    pair = traj.pairs.index((min(i, j), max(i, j)))
    assert sorted(rows.Step.unique()) == list(range(months + 1))
    for step, group in rows.groupby("Step"):
        # model reporters: the partnership pair's alignment in month `step`
        assert group.alignment.iat[0] == pytest.approx(float(traj.alignment[0, step, pair]))
        # agent reporters: the action each actor chose in month `step`
        actions = dict(zip(group.AgentID.map(_agent_ids(direct)), group.action, strict=True))
        assert actions == _action_names(direct, step), step
        # scalar outcomes describe the whole run: present in the final month only
        assert group.betrayal.isna().all() == (step < months)
    final = rows[rows.Step == months].iloc[0]
    assert final.alignment_final == pytest.approx(direct.run_table().alignment_final.iat[0])


def test_batch_run_default_period_reports_the_final_month():
    months = 6
    rows = pd.DataFrame(
        mesa.batch_run(
            AllianceModel,
            parameters={"scenario": str(BASELINE), "months": months, "seed": [5, 8]},
            number_processes=1,
            display_progress=False,
        )
    )
    for seed, group in rows.groupby("seed"):
        direct = _direct(int(seed), months)
        assert (group.Step == months).all()
        expected = direct.run_table().iloc[0]
        assert (group.betrayal == bool(expected.betrayal)).all()
        assert group.alignment_final.iat[0] == pytest.approx(expected.alignment_final)
        actions = dict(zip(group.AgentID.map(_agent_ids(direct)), group.action, strict=True))
        assert actions == _action_names(direct, months)


def _agent_ids(model: AllianceModel) -> dict[int, str]:
    return {a.unique_id: a.actor_id for a in model.agents}


def test_datacollector_rows_are_months_and_the_closing_step_adds_none():
    model = AllianceModel(BASELINE, seed=2, months=3)
    assert len(model.datacollector.get_model_vars_dataframe()) == 1  # month 0 at construction
    for _ in range(3):
        model.step()
    assert model.finished and model.running  # one closing step is left
    assert model.outcome("betrayal") is not None
    model.step()
    assert not model.running
    assert len(model.datacollector.get_model_vars_dataframe()) == 4  # months 0..3
    assert model.trajectory().months == 3
    agents = model.datacollector.get_agent_vars_dataframe()
    assert sorted(agents.index.get_level_values("Step").unique()) == [0, 1, 2, 3]
