import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.commands.cli import main

from .conftest import BASELINE, SCENARIOS


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_run_writes_a_self_describing_results_directory(tmp_path, capsys):
    out = tmp_path / "r"
    code, stdout, _ = run(
        ["run", str(BASELINE), "-n", "30", "--seed", "7", "--months", "24", "--out", str(out)],
        capsys,
    )
    assert code == 0
    assert "P(betrayal: at least one episode)" in stdout
    assert "2015-12 to 2017-11" in stdout
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 30
    traj = pd.read_parquet(out / "trajectories.parquet")
    assert len(traj) == 30 * 25
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 7 and meta["replicates"] == 30 and meta["months"] == 24
    assert meta["scenario"]["actors"]["russia"]["label"] == "Russia"
    assert meta["versions"]["mesa"].startswith("3.")
    assert meta["started"] <= meta["finished"]
    for name in ("alignment_fan", "betrayal_month"):
        assert (out / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / "figures" / f"{name}.svg").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_same_seed_gives_identical_run_tables(tmp_path, capsys):
    for name in ("a", "b"):
        assert (
            run(
                [
                    "run",
                    str(BASELINE),
                    "-n",
                    "20",
                    "--seed",
                    "3",
                    "--months",
                    "12",
                    "--out",
                    str(tmp_path / name),
                    "--no-figures",
                ],
                capsys,
            )[0]
            == 0
        )
    a = (tmp_path / "a" / "runs.parquet").read_bytes()
    b = (tmp_path / "b" / "runs.parquet").read_bytes()
    assert a == b


def test_existing_directory_is_kept_unless_forced(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "5", "--months", "6", "--out", str(out), "--no-figures"]
    assert run(args, capsys)[0] == 0
    before = (out / "runs.parquet").read_bytes()
    code, _, err = run(args + ["--seed", "9"], capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    assert (out / "runs.parquet").read_bytes() == before
    assert run(args + ["--seed", "9", "--force"], capsys)[0] == 0
    assert (out / "runs.parquet").read_bytes() != before


def test_set_overrides_and_records_them(tmp_path, capsys):
    out = tmp_path / "r"
    code, _, _ = run(
        [
            "run",
            str(BASELINE),
            "-n",
            "5",
            "--months",
            "6",
            "--out",
            str(out),
            "--no-figures",
            "--set",
            "actors.russia.salience.ukraine=0.1",
        ],
        capsys,
    )
    assert code == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["overrides"] == {"actors.russia.salience.ukraine": "0.1"}
    assert meta["scenario"]["actors"]["russia"]["salience"]["ukraine"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--set", "actors.russia.salience.ukrane=0.1"], "actors.russia.salience.ukrane"),
        (["--set", "nonsense"], "NAME=VALUE"),
        (["-n", "0"], "--replicates"),
        (["--months", "-3"], "--months"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, args, needle):
    code, _, err = run(["run", str(BASELINE), "--out", str(tmp_path / "x"), *args], capsys)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_list_parameters(capsys):
    code, out, _ = run(["run", str(BASELINE), "--list-parameters"], capsys)
    assert code == 0 and "actors.russia.salience.ukraine = 0.8" in out


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_scenario_runs_briefly(path, tmp_path, capsys):
    code, _, err = run(
        [
            "run",
            str(path),
            "-n",
            "4",
            "--months",
            "6",
            "--no-figures",
            "--out",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert code == 0, err


def test_python_dash_m_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--replicates" in proc.stdout


def test_results_query_well(tmp_path):
    """SQL-friendly names, the scenario and seed in the run table, units in Parquet metadata."""
    import re

    import pyarrow.parquet as pq

    out = tmp_path / "r"
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "-n",
                "5",
                "--months",
                "12",
                "--seed",
                "3",
                "--out",
                str(out),
                "--no-figures",
            ]
        )
        == 0
    )
    runs = pq.read_table(out / "runs.parquet")
    traj = pq.read_table(out / "trajectories.parquet")
    for name in runs.column_names + traj.column_names:
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
    assert runs.column_names[:2] == ["scenario", "seed"]
    assert set(runs.column("seed").to_pylist()) == {3}
    field = runs.schema.field("betrayal_month")
    assert field.metadata[b"unit"] == b"month" and b"first" in field.metadata[b"description"]


def test_chunked_trajectories_equal_the_whole_table(tmp_path, capsys, monkeypatch):
    """`sim run` writes trajectories a block of replicates at a time and draws the fan chart
    from arrays; the files hold what writing the whole tables at once gave (the reference).
    """
    import hashlib

    import pyarrow.parquet as pq

    from sim import api, results
    from sim.model import outcomes
    from sim.scenario import load

    monkeypatch.setattr(api, "CHUNK", 7)  # many blocks, one of them short
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "30", "--seed", "5", "--months", "9", "--out", str(out)]
    assert run(args, capsys)[0] == 0

    sc = load(BASELINE)
    monkeypatch.setattr(api, "CHUNK", 2000)
    res = api.simulate(sc, replicates=30, seed=5, months=9)
    labels = {a.id: a.label for a in sc.actors}
    declared = outcomes.declared(res.params, labels)
    units = results.described(declared)
    ref = tmp_path / "ref"
    ref.mkdir()
    results.write_table(results.tagged(res.runs, sc.name, 5), ref / "runs.parquet", units)
    series, series_units = results.trajectory_table(res.series, sc.name, 5, declared, labels)
    results.write_table(series, ref / "trajectories.parquet", series_units)

    def digest(path):
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert digest(out / "runs.parquet") == digest(ref / "runs.parquet")
    got, want = (pq.read_table(d / "trajectories.parquet") for d in (out, ref))
    assert got.schema.equals(want.schema, check_metadata=True)
    assert got.equals(want)
    assert pq.ParquetFile(out / "trajectories.parquet").num_row_groups == 5
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "trajectories.parquet"), res.series, check_exact=True
    )
    assert (out / "figures" / "alignment_fan.png").exists()
