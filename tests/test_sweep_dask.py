import hashlib

import pandas as pd
import pytest

from sim.sweeps import runner as sweep
from tests.test_sweep import tiny

distributed = pytest.importorskip("distributed")


def digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(
        pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
    ).hexdigest()


def test_dask_cluster_gives_the_local_bytes(tmp_path):
    exp = tiny(points=6, replicates=4, months=24)
    sweep.run_sweep(exp, tmp_path / "local", chunk_size=8)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        sweep.run_sweep(exp, tmp_path / "dask", chunk_size=4, scheduler=cluster.scheduler_address)
    local, remote = sweep.read_runs(tmp_path / "local"), sweep.read_runs(tmp_path / "dask")
    pd.testing.assert_frame_equal(remote, local)
    assert digest(remote) == digest(local)
    pd.testing.assert_frame_equal(
        sweep.read_trajectories(tmp_path / "dask"), sweep.read_trajectories(tmp_path / "local")
    )
