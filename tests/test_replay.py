"""Replays rerun stored runs exactly, from a run's or a sweep's results directory."""

import numpy as np
import pandas as pd
import pytest

from sim import replay, results
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.model import outcomes
from sim.sweeps import runner
from tests.conftest import BASELINE, ROOT
from tests.test_sweep import tiny


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("replay") / "run"
    args = ["run", str(BASELINE), "-n", "12", "--months", "30", "--seed", "9", "--no-figures"]
    assert main([*args, "--set", "events.western_offer.hazard=0.1", "--out", str(out)]) == 0
    return out


def test_a_run_directory_replays_every_stored_run(run_dir):
    rp = replay.from_results(run_dir)
    assert (rp.seed, rp.point, rp.months, rp.replicates) == (9, 0, 30, 12)
    assert rp.scenario.parameters()["events.western_offer.hazard"] == 0.1  # the override
    reps = np.arange(12)
    traj = rp.simulate(reps)
    again = outcomes.run_table(traj, rp.params, reps)
    stored = pd.read_parquet(run_dir / "runs.parquet")
    assert set(stored.scenario) == {rp.scenario.name} and set(stored.seed) == {9}
    stored = stored.drop(columns=["scenario", "seed"])  # the tags the store adds
    pd.testing.assert_frame_equal(again, stored, check_dtype=False)
    replay.check(rp, reps, traj)  # passes


def test_one_replicate_alone_equals_it_among_others(run_dir):
    rp = replay.from_results(run_dir)
    alone = rp.simulate(np.array([7]))
    together = rp.simulate(np.arange(12))
    np.testing.assert_array_equal(alone.actions[0], together.actions[7])


def test_check_names_a_run_that_does_not_reproduce(run_dir, tmp_path):
    rp = replay.from_results(run_dir)
    stored = rp.stored.copy()
    stored.loc[stored.replicate == 3, "alignment_final"] += 0.5
    from dataclasses import replace

    tampered = replace(rp, stored=stored)
    with pytest.raises(SimInputError, match="alignment_final"):
        replay.check(tampered, np.array([3]), rp.simulate(np.array([3])))


def test_a_sweep_point_replays_its_stored_runs(tmp_path):
    out = tmp_path / "sweep"
    runner.run_sweep(tiny(points=4, replicates=3, months=18), out, chunk_size=5)
    stored = runner.read_runs(out)
    for point in (0, 3):
        rp = replay.from_results(out, point)
        reps = np.arange(3)
        traj = rp.simulate(reps)
        replay.check(rp, reps, traj)
        again = outcomes.run_table(traj, rp.params, reps)
        mine = stored[stored.point == point].reset_index(drop=True)
        np.testing.assert_allclose(again.alignment_final, mine.alignment_final)
    with pytest.raises(SimInputError, match="design point"):
        replay.from_results(out)
    with pytest.raises(SimInputError, match="design point"):
        replay.from_results(out, 99)


def test_months_and_dates(run_dir):
    rp = replay.from_results(run_dir)
    assert rp.month_of(date="2015-12") == 1
    assert rp.month_of(date="2017-03") == 16
    assert rp.month_of(month=30) == 30
    for kw in ({"date": "2030-01"}, {"month": 0}, {"date": "March"}):
        with pytest.raises(SimInputError):
            rp.month_of(**kw)
    with pytest.raises(SimInputError, match="replicate"):
        rp.check_replicate(12)


def test_not_a_results_directory(tmp_path):
    with pytest.raises(SimInputError):
        replay.from_results(tmp_path)
    meta = {"format": results.FORMAT, "format_version": results.FORMAT_VERSION, "kind": "run"}
    results.write_json(meta, tmp_path / "metadata.json")
    with pytest.raises(SimInputError, match="resolved scenario"):
        replay.from_results(tmp_path)


def test_from_scenario_matches_the_api(tmp_path):
    from sim import api

    rp = replay.from_scenario(ROOT / "scenarios" / "betrayal_in_syria.toml", seed=4, months=24)
    res = api.simulate(rp.scenario, replicates=5, seed=4, months=24, keep_series=False)
    again = outcomes.run_table(rp.simulate(np.arange(5)), rp.params, np.arange(5))
    pd.testing.assert_frame_equal(again, res.runs.drop(columns=["scenario", "seed"]))
