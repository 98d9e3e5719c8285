"""Data safety of results: one writer per folder, --force replaces only sim's own output,
half-made folders resume, names stay under results/, Ctrl-C tells the truth, one overwrite
rule and one permission mode. Real processes, files and signals throughout."""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from sim import results
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.sweeps import runner as sweep
from sim.sweeps.experiment import load_experiment
from tests.conftest import BASELINE, ROOT
from tests.test_sweep import experiment_file, tiny

SIM = [sys.executable, "-m", "sim"]


def one_line_error(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"sim {command}: error: "), err
    return lines[0]


def hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def wait_for(predicate, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --------------------------------------------------------------------------------------------
# 1. One writer per results folder


def test_two_sweeps_racing_into_one_folder_one_is_refused(tmp_path):
    path = experiment_file(tmp_path, points=80, replicates=10, months=120)
    out = tmp_path / "o"
    cmd = [*SIM, "sweep", str(path), "--out", str(out), "--chunk-size", "10"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    done = [(p.wait(120), *(s.decode() for s in p.communicate())) for p in procs]
    codes = sorted(code for code, _, _ in done)
    assert codes == [0, 2], done
    (_, _, err), (_, won, _) = sorted(done, key=lambda d: -d[0])
    line = one_line_error(err, "sweep")
    assert "another sim process is writing" in line and "pid" in line
    assert "800 runs (80 chunks, 0 already done, 80 written)" in won
    ref = tmp_path / "ref"
    sweep.run_sweep(load_experiment(path), ref, chunk_size=400)
    pd.testing.assert_frame_equal(sweep.read_runs(out), sweep.read_runs(ref))
    assert results.read_metadata(out)["status"] == "complete"
    assert hidden(tmp_path) == [] and hidden(out / "runs") == []


def test_two_runs_racing_into_one_folder_one_is_refused(tmp_path):
    out = tmp_path / "r"
    cmd = [*SIM, "run", str(BASELINE), "-n", "8000", "--months", "120", "--out", str(out)]
    cmd += ["--no-figures"]
    procs = [
        subprocess.Popen([*cmd, "--seed", str(seed)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for seed in (1, 2)
    ]
    done = [(p.wait(120), p.communicate()[1]) for p in procs]
    assert sorted(code for code, _ in done) == [0, 2], done
    winner = 1 if done[0][0] == 0 else 2
    loser_err = next(err for code, err in done if code == 2)
    assert "another sim process is writing" in one_line_error(loser_err, "run")
    assert results.read_metadata(out)["seed"] == winner
    assert hidden(tmp_path) == []


def test_a_held_lock_refuses_with_the_owner_and_is_released(tmp_path):
    out = tmp_path / "o"
    with results.claim(out) as lock:
        record = json.loads(lock.read_text())
        assert record["pid"] == os.getpid() and record["host"]
        with pytest.raises(SimInputError, match=rf"pid {os.getpid()} on .* since"):
            sweep.run_sweep(tiny(), out)
        code = subprocess.run(
            [*SIM, "run", str(BASELINE), "-n", "2", "--months", "2", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert code.returncode == 2
        assert f"pid {os.getpid()}" in one_line_error(code.stderr, "run")
    assert not lock.exists()
    sweep.run_sweep(tiny(), out)  # free again
    assert not lock.exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "o"
    lock = results.lock_path(out)
    lock.write_text(json.dumps({"pid": dead.pid, "host": "here", "started": "then"}))
    sweep.run_sweep(tiny(), out)
    assert results.read_metadata(out)["status"] == "complete"
    assert not lock.exists()


# --------------------------------------------------------------------------------------------
# 2. --force replaces only what sim wrote


def run_cmd(args, capsys):
    code = main(args)
    return code, capsys.readouterr().err


def test_run_force_refuses_a_plain_file_and_leaves_it(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    args = ["run", str(BASELINE), "-n", "3", "--months", "3", "--no-figures"]
    code, err = run_cmd([*args, "--out", str(target), "--force"], capsys)
    assert code == 2 and "not a directory" in one_line_error(err, "run")
    assert target.read_text() == "mine"
    assert hidden(tmp_path) == []


def test_force_refuses_a_foreign_folder_and_leaves_it(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    (folder / "metadata.json").write_text(json.dumps({"format": "someone-else"}))
    args = ["run", str(BASELINE), "-n", "3", "--months", "3", "--no-figures"]
    code, err = run_cmd([*args, "--out", str(folder), "--force"], capsys)
    assert code == 2 and "not a results directory written by sim" in one_line_error(err, "run")
    exp = experiment_file(tmp_path, points=2, replicates=2, months=3)
    code, err = run_cmd(["sweep", str(exp), "--out", str(folder), "--force"], capsys)
    assert code == 2 and "not a results directory written by sim" in one_line_error(err, "sweep")
    (folder / "metadata.json").write_text(json.dumps({"format": "sim-results"}))  # forged
    code, err = run_cmd([*args, "--out", str(folder), "--force"], capsys)
    assert code == 2 and "not a results directory written by sim" in one_line_error(err, "run")
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "thesis.tex"]
    assert hidden(tmp_path) == []


def test_force_replaces_sim_results_and_empty_folders(tmp_path, capsys):
    args = ["run", str(BASELINE), "-n", "3", "--months", "3", "--no-figures"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cmd([*args, "--out", str(empty)], capsys)[0] == 2  # exists: needs --force
    assert run_cmd([*args, "--out", str(empty), "--force"], capsys)[0] == 0
    assert run_cmd([*args, "--out", str(empty), "--force", "--seed", "4"], capsys)[0] == 0
    assert results.read_metadata(empty)["seed"] == 4
    assert hidden(tmp_path) == []


def test_the_file_system_root_is_never_a_target():
    with pytest.raises(SimInputError, match="cannot be written as a whole"):
        with results.claim("/"):
            pass


def test_an_unwritable_out_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile" / "r", "/proc/sim-results"):
        code, err = run_cmd(["run", str(BASELINE), "-n", "2", "--out", str(out)], capsys)
        assert code == 2 and "cannot write" in one_line_error(err, "run")


# --------------------------------------------------------------------------------------------
# 3. A sweep killed before its metadata was written resumes or is forced

KILL_AT = textwrap.dedent(
    """
    import os, signal, sys
    import importlib
    module, name = sys.argv[1].rsplit(".", 1)
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(importlib.import_module(module), name, die)
    from sim.commands.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("where", ["sim.results.write_json", "sim.sweeps.design.points_table"])
def test_sweep_killed_before_its_metadata_resumes_or_is_forced(tmp_path, where):
    path = experiment_file(tmp_path, points=4, replicates=2, months=6)
    out = tmp_path / "o"
    args = ["sweep", str(path), "--out", str(out)]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, where, *args], cwd=ROOT, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    if out.exists():  # whatever a killed sweep leaves must say it is sim's
        assert json.loads((out / "metadata.json").read_text())["status"] == "running"
    for extra in ([], ["--force"]):
        done = subprocess.run([*SIM, *args, *extra], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert results.read_metadata(out)["status"] == "complete"
    assert hidden(tmp_path) == []  # the dead writer's temporaries and lock are gone


def test_a_folder_without_the_marker_is_never_taken_for_a_half_made_sweep(tmp_path):
    """A folder holding only what a killed sweep might leave, or only dot-files (.git, .env),
    is not the tool's (no marker): refused, with or without --force, and left untouched."""
    for name, files in (
        ("old", ["runs/", "trajectories/", "points.parquet", ".metadata.json.tmp"]),
        ("dots", [".git/", ".git/config", ".env", ".ssh/", ".ssh/id_ed25519"]),
    ):
        out = tmp_path / name
        for f in files:
            (out / f).mkdir(parents=True) if f.endswith("/") else (out / f).write_text("x")
        before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
        for force in (False, True):
            with pytest.raises(SimInputError, match="not a"):
                sweep.run_sweep(tiny(), out, force=force)
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


# --------------------------------------------------------------------------------------------
# 4. Names are plain, default paths stay under results/

BAD_NAMES = ["../../outside", "/tmp/sim-absolute", "a/b", "..", ".hidden", "two words", ""]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_scenario_name_must_be_plain(tmp_path, monkeypatch, capsys, name):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    sc = tmp_path / "sc.toml"
    sc.write_text(BASELINE.read_text().replace('name = "baseline"', f"name = {name!r}"))
    before = set(tmp_path.rglob("*"))
    code, err = run_cmd(["run", str(sc), "-n", "2", "--months", "2", "--force"], capsys)
    assert code == 2
    line = one_line_error(err, "run")
    assert "scenario.name: not a plain identifier" in line and "ASCII letter" in line
    assert set(tmp_path.rglob("*")) == before
    assert not os.path.exists("/tmp/sim-absolute-seed0")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_experiment_name_must_be_plain(tmp_path, monkeypatch, capsys, name):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    path = experiment_file(tmp_path, points=2, replicates=2, months=3)
    path.write_text(path.read_text().replace('name = "kill_test"', f"name = {name!r}"))
    before = set(tmp_path.rglob("*"))
    code, err = run_cmd(["sweep", str(path), "--force"], capsys)
    assert code == 2 and "experiment.name: not a plain identifier" in one_line_error(err, "sweep")
    assert set(tmp_path.rglob("*")) == before
    assert not os.path.exists("/tmp/sim-absolute")


def test_an_experiment_file_name_that_is_not_plain_needs_a_name(tmp_path, capsys):
    path = experiment_file(tmp_path, points=2, replicates=2, months=3)
    unnamed = tmp_path / "my sweep.toml"
    unnamed.write_text(path.read_text().replace('name = "kill_test"\n', ""))
    code, err = run_cmd(["sweep", str(unnamed)], capsys)
    assert code == 2 and "set experiment.name" in one_line_error(err, "sweep")


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", ""])
def test_default_dir_stays_under_results(name):
    with pytest.raises(SimInputError, match="not a plain identifier"):
        results.default_dir(name)
    assert results.default_dir("baseline", "-seed3").as_posix() == "results/baseline-seed3"


# --------------------------------------------------------------------------------------------
# 7. Ctrl-C tells the truth


def test_ctrl_c_on_run_keeps_nothing_and_says_so(tmp_path):
    out = tmp_path / "r"
    cmd = [*SIM, "run", str(BASELINE), "-n", "20000", "--months", "120", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    # Wait until the results are being written: a hidden temporary folder beside `out`.
    wait_for(lambda: any(p.is_dir() for p in tmp_path.glob(".r.*")), proc)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130
    assert err.strip().splitlines() == [f"sim run: interrupted; nothing was written to {out}"]
    assert not out.exists() and hidden(tmp_path) == []


def test_ctrl_c_on_sweep_marks_it_interrupted_and_it_resumes(tmp_path):
    path = experiment_file(tmp_path, points=60, replicates=10, months=120)
    out = tmp_path / "o"
    cmd = [*SIM, "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--chunk-size", "10"], cwd=ROOT, stderr=subprocess.PIPE)
    wait_for(lambda: len(sweep.done_chunks(out)) >= 3, proc)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1].decode()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == (
        f"sim sweep: interrupted; finished chunks are kept in {out}; run the same command "
        "again to resume"
    )
    meta = results.read_metadata(out)
    assert meta["status"] == "interrupted" and meta["finished"]
    kept = sweep.done_chunks(out)
    assert 3 <= len(kept) < 60
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"{len(kept)} already done" in done.stdout
    assert results.read_metadata(out)["status"] == "complete"
    ref = tmp_path / "ref"
    sweep.run_sweep(load_experiment(path), ref, chunk_size=400)
    pd.testing.assert_frame_equal(sweep.read_runs(out), sweep.read_runs(ref))


# --------------------------------------------------------------------------------------------
# 20. One permission mode for everything in a results directory


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def modes(folder):
    found = {stat.S_IMODE(folder.stat().st_mode)}
    for p in folder.rglob("*"):
        found.add(stat.S_IMODE(p.stat().st_mode))
    return found


def test_results_get_the_modes_of_the_umask(tmp_path, capsys, umask):
    mask = 0o027  # not the usual 022, to show the modes follow it, like any new file's
    umask(mask)
    run_out, sweep_out, report = tmp_path / "r", tmp_path / "s", tmp_path / "report.html"
    assert main(["run", str(BASELINE), "-n", "4", "--months", "6", "--out", str(run_out)]) == 0
    path = experiment_file(tmp_path, points=2, replicates=2, months=3)
    assert main(["sweep", str(path), "--out", str(sweep_out)]) == 0
    assert main(["report", str(run_out), "--out", str(report)]) == 0
    capsys.readouterr()
    dirs, files = 0o777 & ~mask, 0o666 & ~mask
    for out in (run_out, sweep_out):
        assert modes(out) == {dirs, files}, (out, [oct(m) for m in modes(out)])
        assert stat.S_IMODE(out.stat().st_mode) == dirs
    assert stat.S_IMODE(report.stat().st_mode) == files
