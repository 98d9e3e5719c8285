import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from sim import results
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.sweeps import runner as sweep
from sim.sweeps.experiment import load_experiment, shrink
from tests.conftest import BASELINE, ROOT


def tiny(name="betrayal_sweep", points=6, replicates=4, months=12, **kw):
    """A shipped experiment shrunk to test size."""
    exp = shrink(
        load_experiment(ROOT / "experiments" / f"{name}.toml"),
        points=points,
        replicates=replicates,
        months=months,
    )
    return exp if not kw else shrink(exp, **kw)


def experiment_file(tmp_path, points, replicates, months, trajectories="quantiles"):
    path = tmp_path / "kill.toml"
    path.write_text(
        f"""
[experiment]
name = "kill_test"
scenario = "{BASELINE}"
seed = 5
replicates = {replicates}
months = {months}
[design]
method = "lhs"
points = {points}
[parameters]
"events.western_offer.hazard" = {{ low = 0.005, high = 0.08 }}
"events.tehran_summit.month" = {{ low = 1, high = 12 }}
[output]
trajectories = "{trajectories}"
"""
    )
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref"
    sweep.run_sweep(tiny(), out, chunk_size=8)
    return out


def test_layout_and_columns(reference):
    exp = tiny()
    meta = results.read_metadata(reference)
    assert meta["kind"] == "sweep" and meta["status"] == "complete"
    assert meta["problem"]["names"] == list(exp.names)
    assert meta["points"] == 6 and meta["replicates"] == 4 and meta["chunks"] == 3
    assert {"started", "finished", "versions", "parameters", "seed", "months"} <= set(meta)
    runs = sweep.read_runs(reference)
    assert list(runs.columns[:4]) == ["scenario", "seed", "point", "replicate"]
    assert set(runs.scenario) == {exp.scenario.name} and set(runs.seed) == {exp.seed}
    assert list(runs.columns[4 : 4 + len(exp.names)]) == list(exp.names)
    assert (reference / "outcomes.json").is_file()
    assert "betrayal" in runs.columns and "alignment_final" in runs.columns
    assert len(runs) == 24 and not runs.duplicated(["point", "replicate"]).any()
    points = pd.read_parquet(reference / "points.parquet")
    assert list(points.point) == list(range(6))
    merged = runs.merge(points, on="point", suffixes=("", "_p"))
    for name in exp.names:
        np.testing.assert_array_equal(merged[name], merged[f"{name}_p"])
    assert sorted(os.listdir(reference / "runs")) == [sweep.chunk_name(c) for c in range(3)]


def test_quantiles_match_direct_computation(reference):
    exp = tiny()
    plan = sweep.make_plan(exp, 100)
    params, point, rep = sweep.chunk_params(plan.task(0))
    traj = sweep.simulate_rows(params, exp.seed, point, rep, exp.months)
    series = traj.pair_series(*params.pair).astype(np.float64)
    q = sweep.read_trajectories(reference)
    assert len(q) == 6 * (exp.months + 1)
    p3 = series[point == 3]
    got = q[q.point == 3].sort_values("month")
    np.testing.assert_allclose(got.q50.to_numpy(), np.quantile(p3, 0.5, axis=0))
    np.testing.assert_allclose(got.q05.to_numpy(), np.quantile(p3, 0.05, axis=0))


@pytest.mark.parametrize("chunk_size", [1, 5, 1000])
def test_same_bytes_any_chunk_size(tmp_path, reference, chunk_size):
    sweep.run_sweep(tiny(), tmp_path / "o", chunk_size=chunk_size)
    pd.testing.assert_frame_equal(sweep.read_runs(tmp_path / "o"), sweep.read_runs(reference))
    pd.testing.assert_frame_equal(
        sweep.read_trajectories(tmp_path / "o"), sweep.read_trajectories(reference)
    )


def test_two_worker_processes_same_bytes(tmp_path, reference):
    sweep.run_sweep(tiny(), tmp_path / "o", chunk_size=4, workers=2)
    pd.testing.assert_frame_equal(sweep.read_runs(tmp_path / "o"), sweep.read_runs(reference))


def test_local_workers_write_their_own_chunks_to_the_same_bytes(tmp_path, reference, monkeypatch):
    def parent_writes(out, res):
        raise AssertionError("the parent wrote a chunk")

    monkeypatch.setattr(sweep, "write_chunk", parent_writes)  # the workers import their own
    summary = sweep.run_sweep(tiny(), tmp_path / "o", chunk_size=8, workers=2)
    assert summary.written == 3
    for sub in ("runs", "trajectories"):
        names = sorted(os.listdir(reference / sub))
        assert sorted(os.listdir(tmp_path / "o" / sub)) == names
        for name in names:
            got = (tmp_path / "o" / sub / name).read_bytes()
            assert got == (reference / sub / name).read_bytes()


def test_different_seed_differs(tmp_path, reference):
    from dataclasses import replace

    sweep.run_sweep(replace(tiny(), seed=99), tmp_path / "o", chunk_size=8)
    a, b = sweep.read_runs(tmp_path / "o"), sweep.read_runs(reference)
    assert not a.alignment_final.equals(b.alignment_final)


def test_sample_trajectories(tmp_path):
    exp = tiny("alignment_drift_sobol", points=2, replicates=3, months=5)
    sweep.run_sweep(exp, tmp_path / "o", chunk_size=10)
    t = sweep.read_trajectories(tmp_path / "o")
    assert set(t.replicate) == {0, 1} and t.point.nunique() == 2 * (7 + 2)
    assert len(t) == 2 * 9 * 2 * 6


def test_resume_skips_done_chunks_and_cleans_temporaries(tmp_path, reference):
    out = tmp_path / "o"
    sweep.run_sweep(tiny(), out, chunk_size=8)
    os.remove(out / "runs" / sweep.chunk_name(1))
    (out / "runs" / ".chunk-000001.parquet.tmp").write_bytes(b"half a file")
    s = sweep.run_sweep(tiny(), out)
    assert (s.skipped, s.written) == (2, 1)
    assert not any(f.startswith(".") for f in os.listdir(out / "runs"))
    pd.testing.assert_frame_equal(sweep.read_runs(out), sweep.read_runs(reference))


def test_refuses_other_experiment_and_force_restarts(tmp_path):
    out = tmp_path / "o"
    sweep.run_sweep(tiny(), out, chunk_size=8)
    other = tiny(replicates=5)
    with pytest.raises(SimInputError, match="different experiment"):
        sweep.run_sweep(other, out)
    with pytest.raises(SimInputError, match="chunk size"):
        sweep.run_sweep(tiny(), out, chunk_size=4)
    sweep.run_sweep(other, out, force=True)
    assert len(sweep.read_runs(out)) == 30


def test_refuses_foreign_directory(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    for force in (False, True):
        with pytest.raises(SimInputError):
            sweep.run_sweep(tiny(), tmp_path / "o", force=force)
    assert (tmp_path / "o" / "notes.txt").exists()


def test_cli_sweep_and_bad_input(tmp_path, capsys):
    path = experiment_file(tmp_path, 4, 2, 6)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--chunk-size", "4"]) == 0
    assert "8 runs" in capsys.readouterr().out
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert main(["sweep", str(path), "--workers", "0", "--out", str(tmp_path / "p")]) == 2
    assert "--workers" in capsys.readouterr().err


def test_killed_sweep_resumes_to_the_same_bytes(tmp_path):
    path = experiment_file(tmp_path, points=150, replicates=10, months=120)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--chunk-size", "10"], cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(sweep.done_chunks(out)) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = sweep.done_chunks(out)
    assert 3 <= len(partial) < 150
    assert json.loads((out / "metadata.json").read_text())["status"] == "running"
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"{len(partial)} already done" in done.stdout
    assert sweep.done_chunks(out) == set(range(150))
    ref = tmp_path / "ref"
    sweep.run_sweep(load_experiment(path), ref, chunk_size=400)
    runs = sweep.read_runs(out)
    assert len(runs) == 1500 and not runs.duplicated(["point", "replicate"]).any()
    pd.testing.assert_frame_equal(runs, sweep.read_runs(ref))
    pd.testing.assert_frame_equal(sweep.read_trajectories(out), sweep.read_trajectories(ref))
    assert results.read_metadata(out)["status"] == "complete"


def _fail_at_point(monkeypatch, bad_point):
    """Inject a fault: runs of one point raise, as a bug in a rule would (in-process only)."""
    real = sweep.simulate_rows

    def faulty(params, seed, point, rep, months):
        if (np.asarray(point) == bad_point).any():
            raise FloatingPointError("injected fault")
        return real(params, seed, point, rep, months)

    monkeypatch.setattr(sweep, "simulate_rows", faulty)


def test_failing_run_stops_cleanly_and_keeps_finished_chunks(tmp_path, monkeypatch):
    exp = tiny(points=6, replicates=2, months=6)
    _fail_at_point(monkeypatch, 4)
    out = tmp_path / "s"
    with pytest.raises(sweep.RunFailure, match=r"point 4, replicate 0, seed"):
        sweep.run_sweep(exp, out, chunk_size=2)  # chunks of one point (2 replicates)
    kept = sweep.read_runs(out)
    assert sorted(set(kept.point)) == [0, 1, 2, 3]
    failures = json.loads((out / "failures.json").read_text())["failures"]
    assert failures[0]["point"] == 4 and "injected fault" in failures[0]["error"]
    monkeypatch.undo()
    sweep.run_sweep(exp, out, chunk_size=2)  # rerun resumes and completes
    assert len(sweep.read_runs(out)) == 12
    assert not (out / "failures.json").exists()


def test_keep_going_records_the_failure_and_finishes_the_rest(tmp_path, monkeypatch):
    exp = tiny(points=6, replicates=2, months=6)
    _fail_at_point(monkeypatch, 2)
    out = tmp_path / "s"
    summary = sweep.run_sweep(exp, out, chunk_size=2, keep_going=True)
    assert len(summary.failures) == 1
    assert sorted(set(sweep.read_runs(out).point)) == [0, 1, 3, 4, 5]
    assert results.read_metadata(out)["status"] == "incomplete"
