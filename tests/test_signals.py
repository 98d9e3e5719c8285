"""Stop signals and worker processes: one mechanism (`sim.signals`) for every command."""

import os
import signal
import subprocess
import sys
import time

import pytest

from sim import results, signals
from sim.sweeps import runner as sweep
from tests.conftest import ROOT
from tests.test_sweep import experiment_file

SIM = [sys.executable, "-m", "sim"]


def wait_for(condition, proc, timeout=240):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (read from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().split(")")[-1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_the_exit_status_names_the_signal():
    assert signals.exit_status(KeyboardInterrupt()) == 130
    assert signals.exit_status(signals.Stopped(signal.SIGTERM)) == 143
    assert signals.exit_status(signals.Stopped(signal.SIGHUP)) == 129
    kept = signals.noted(signals.Stopped(signal.SIGTERM), "kept")
    assert isinstance(kept, KeyboardInterrupt) and kept.signum == signal.SIGTERM


def test_a_swallowed_stop_is_raised_again():
    with signals.stopping():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except KeyboardInterrupt:
            pass  # a library that swallows it
        with pytest.raises(signals.Stopped):
            signals.raise_if_stopped()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stopped_sweep_leaves_no_worker_and_says_interrupted(tmp_path, signum):
    path = experiment_file(tmp_path, points=60, replicates=10, months=120)
    out = tmp_path / "o"
    cmd = [*SIM, "sweep", str(path), "--out", str(out), "--chunk-size", "10", "--workers", "2"]
    # Its own session, as under a service manager: only the main process gets the signal.
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, start_new_session=True)
    wait_for(lambda: len(sweep.done_chunks(out)) >= 2, proc)
    below = descendants(proc.pid)
    assert below  # workers, forkserver, resource tracker
    proc.send_signal(signum)
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 128 + signum
    lines = err.strip().splitlines()
    assert lines[-1].startswith("sim sweep: interrupted") and "Traceback" not in err
    assert results.read_metadata(out)["status"] == "interrupted"
    deadline = time.monotonic() + 30
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in below if alive(p)]


def test_sweep_workers_die_with_a_killed_parent(tmp_path):
    path = experiment_file(tmp_path, points=60, replicates=10, months=120)
    out = tmp_path / "o"
    cmd = [*SIM, "sweep", str(path), "--out", str(out), "--chunk-size", "10", "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(sweep.done_chunks(out)) >= 2, proc)
    below = descendants(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in below if alive(p)]


@pytest.mark.parametrize("sampler", ["batch", "multicore"])
def test_ctrl_c_on_calibrate_is_one_line_and_130(tmp_path, sampler):
    out = tmp_path / "cal"
    cmd = [
        *SIM, "calibrate", "--until", "2019", "--parameters", "dynamics.action",
        "--population", "40", "--generations", "50", "--sampler", sampler, "--out", str(out),
        "--no-figures",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    wait_for(lambda: any(p.name.startswith(".cal") for p in tmp_path.iterdir()), proc)
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGINT)  # as the terminal sends it: to the whole group
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith(
        "sim calibrate: interrupted"
    )
    assert not out.exists()


def test_the_progress_helper_raises_a_swallowed_stop_and_draws_nothing_off_a_terminal(capsys):
    from sim.commands import progress

    with progress.bar("x", 10, "run") as bar:
        bar.update(3)  # no stop yet: nothing happens, nothing drawn (stderr is no terminal)
    assert capsys.readouterr().err == ""
    with signals.stopping():
        try:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        with progress.bar("x", 10, "run") as bar, pytest.raises(signals.Stopped):
            bar.update(1)
        with pytest.raises(signals.Stopped):
            progress.generations("calibrating")(0, 1, 10, 1)
