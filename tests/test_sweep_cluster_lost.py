"""A Dask cluster that goes away mid-sweep: one line saying the finished chunks are kept.

A real scheduler and worker run as processes (`dask scheduler`, `dask worker`), a real
`sim sweep` sends them chunks, and the scheduler is killed once some chunks are on disk.
"""

import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import BASELINE

pytest.importorskip("distributed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_lost_cluster_is_one_line_and_keeps_finished_chunks(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'[experiment]\nname = "lost"\nscenario = "{BASELINE}"\nseed = 3\nreplicates = 10\n'
        'months = 120\n[design]\nmethod = "lhs"\npoints = 2000\n[parameters]\n'
        '"actors.iran.memory" = { low = 0.95, high = 0.999 }\n'
    )
    address = f"tcp://127.0.0.1:{free_port()}"
    logs = tmp_path / "logs"
    logs.mkdir()
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
         address.rsplit(":", 1)[1], "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=(logs / "scheduler").open("w"),
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--no-dashboard", "--no-nanny"],
        stdout=subprocess.DEVNULL, stderr=(logs / "worker").open("w"),
    )  # fmt: skip
    out = tmp_path / "sweep"
    sweep = None
    try:
        sweep = subprocess.Popen(
            [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(out),
             "--chunk-size", "20", "--scheduler", address],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        runs = out / "runs"
        wait_for(lambda: runs.is_dir() and len(list(runs.glob("*.parquet"))) >= 3, 120, "chunks")
        scheduler.kill()
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        for proc in (sweep, worker, scheduler):
            if proc is not None:
                stop(proc)
    kept = len(list((out / "runs").glob("*.parquet")))
    assert sweep.returncode == 1, stderr[-3000:]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert stderr.startswith(f"sim sweep: error: --scheduler: the Dask cluster at {address}")
    assert f"finished chunks are kept in {out}" in stderr
    assert 3 <= kept < 100  # the 2,000 points make 1,000 chunks: the sweep did not finish
