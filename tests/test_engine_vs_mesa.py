import pandas as pd
import pytest

from sim.model import AllianceModel
from sim.sweeps import runner as sweep
from tests.test_sweep import tiny


@pytest.mark.parametrize("name", ["betrayal_sweep", "alignment_drift_sobol"])
def test_sweep_runs_equal_mesa_runs(name):
    exp = tiny(name, points=4, replicates=3, months=36)
    plan = sweep.make_plan(exp, 1000)
    runs = sweep.run_chunk(plan.task(0)).runs
    for point, rep in [(0, 0), (1, 2), (plan.values.shape[0] - 1, 1)]:
        row = runs[(runs.point == point) & (runs.replicate == rep)]
        values = {n: row[n].iat[0].item() for n in exp.names}
        model = AllianceModel(
            scenario=exp.scenario_path,
            seed=exp.seed,
            months=exp.months,
            point=point,
            replicate=rep,
            **values,
        )
        while model.running:
            model.step()
        expected = model.run_table().drop(columns="replicate").reset_index(drop=True)
        got = row[expected.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)
