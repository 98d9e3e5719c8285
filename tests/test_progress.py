"""Long commands draw a progress bar on stderr when it is a terminal, and nothing otherwise.

Each test runs a real `sim` process with its stderr on a real pseudo-terminal (or a pipe).
"""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from sim.commands.cli import main

from .conftest import BASELINE

RANGE_ENDS = ["validate", "-n", "20", "--months", "24", "--range-ends", "actors.iran.memory"]


def run_on_terminal(argv):
    """Run ``sim ARGV`` with stderr on a 100-column terminal; return (status, stdout, stderr)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    return proc.wait(timeout=120), out, b"".join(chunks).decode(errors="replace")


def run_on_pipe(argv):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *argv], capture_output=True, text=True, timeout=120
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    dirs = []
    for seed in (1, 2):
        out = base / f"r{seed}"
        argv = ["run", str(BASELINE), "-n", "20", "--months", "12", "--seed", str(seed)]
        assert main([*argv, "--no-figures", "--out", str(out)]) == 0
        dirs.append(str(out))
    return dirs


def test_validate_range_ends_shows_progress_on_a_terminal():
    code, out, err = run_on_terminal(RANGE_ENDS)
    assert code == 0 and "Robustness:" in out
    # one pass for the checks as given, one per end of the parameter's range
    assert "validating" in err and "3/3" in err, err


def test_validate_range_ends_is_silent_on_a_pipe():
    code, out, err = run_on_pipe(RANGE_ENDS)
    assert code == 0 and "Robustness:" in out and err == ""


def test_report_shows_progress_on_a_terminal(tmp_path, two_runs):
    code, out, err = run_on_terminal(["report", *two_runs, "--out", str(tmp_path / "r.html")])
    assert code == 0 and out.startswith("report: ")
    assert "loading results: 100%" in err and "2/2" in err, err
    assert re.search(r"drawing figures: 100%.*\| (\d+)/\1 ", err), err


def test_report_is_silent_on_a_pipe(tmp_path, two_runs):
    code, out, err = run_on_pipe(["report", *two_runs, "--out", str(tmp_path / "r.html")])
    assert code == 0 and out.startswith("report: ") and err == ""
