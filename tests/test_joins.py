"""Results that join: trajectories tagged and described like run tables, sweep chunks with
units, API tables with scenario and seed, versions with numba and the code revision, and the
seed a seedless Mesa model drew."""

import json

import pyarrow.parquet as pq

from sim import api, results
from sim.commands.cli import main
from sim.model import AllianceModel
from sim.sweeps import runner
from sim.sweeps.experiment import load_experiment, shrink

from .conftest import BASELINE, ROOT


def test_trajectories_carry_scenario_seed_and_units_listed_in_outcomes_json(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "6", "--months", "6", "--seed", "3", "--out", str(out)]
    assert main([*args, "--no-figures", "--parameter-draws", "0"]) == 0
    capsys.readouterr()
    schema = pq.read_schema(out / "trajectories.parquet")
    assert schema.names[:4] == ["scenario", "seed", "replicate", "month"]
    for name in schema.names:
        meta = schema.field(name).metadata
        assert meta and meta[b"unit"], f"{name} has no unit"
    assert schema.field("hedging_index").metadata[b"unit"] == b"index in [-2, 2]"
    assert schema.field("alignment__iran__russia").metadata[b"unit"] == b"index in [-1, 1]"
    listed = json.loads((out / "outcomes.json").read_text())["trajectories"]
    assert [c["name"] for c in listed] == schema.names
    table = pq.read_table(out / "trajectories.parquet").to_pandas()
    assert set(table.scenario) == {"baseline"} and set(table.seed) == {3}
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["versions"]["numba"][0].isdigit()
    assert meta["versions"]["revision"].startswith(("git ", "sim "))


def test_sweep_chunks_carry_units_and_plain_parameter_aliases(tmp_path):
    exp = shrink(
        load_experiment(ROOT / "experiments" / "betrayal_sweep.toml"),
        points=2,
        replicates=2,
        months=6,
    )
    runner.run_sweep(exp, tmp_path / "s")
    (chunk,) = (tmp_path / "s" / "runs").glob("*.parquet")
    schema = pq.read_schema(chunk)
    assert schema.field("betrayal").metadata[b"unit"] == b"true/false"
    name = "actors.russia.salience.ukraine"
    assert schema.field(name).metadata[b"plain_name"] == b"actors__russia__salience__ukraine"
    assert results.plain_name(name) == "actors__russia__salience__ukraine"


def test_api_tables_start_with_scenario_and_seed():
    res = api.simulate(BASELINE, replicates=3, seed=5, months=4)
    assert list(res.runs.columns[:3]) == ["scenario", "seed", "replicate"]
    assert list(res.series.columns[:2]) == ["scenario", "seed"]
    assert set(res.runs.seed) == {5} and set(res.runs.scenario) == {"baseline"}
    assert results.tagged(res.runs, "baseline", 5) is res.runs  # tagging twice is a no-op


def test_a_seedless_mesa_model_records_the_seed_it_drew():
    model = AllianceModel(BASELINE, months=2)
    model.step()
    seeds = model.datacollector.get_model_vars_dataframe()["seed"]
    assert set(seeds) == {model.seed_value}
