"""Results directories are data, checked before they are read."""

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import analysis, results
from sim.commands.cli import main
from sim.errors import SimInputError

from .conftest import BASELINE


@pytest.fixture
def run_dir(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(["run", str(BASELINE), "-n", "5", "--months", "6", "--out", str(out), "--no-figures"])
        == 0
    )
    capsys.readouterr()
    return out


def test_metadata_is_read_and_checked(run_dir):
    meta = results.read_metadata(run_dir)
    assert meta["format"] == results.FORMAT and meta["kind"] == "run"


def test_incompatible_format_version_is_refused(run_dir, capsys):
    path = run_dir / "metadata.json"
    meta = json.loads(path.read_text())
    meta["format_version"] = 99
    path.write_text(json.dumps(meta))
    with pytest.raises(SimInputError, match="incompatible version"):
        analysis.load(run_dir)
    assert main(["report", str(run_dir), "--out", str(run_dir / "x.html")]) == 2
    assert "format_version" in capsys.readouterr().err


def test_foreign_directory_is_refused(tmp_path, capsys):
    (tmp_path / "metadata.json").write_text('{"format": "something-else"}')
    with pytest.raises(SimInputError, match="not a sim results directory"):
        results.read_metadata(tmp_path)
    assert main(["plot", str(tmp_path)]) == 2


def test_not_a_results_directory(tmp_path):
    with pytest.raises(SimInputError, match="no metadata.json"):
        results.read_metadata(tmp_path)


def test_corrupt_metadata(tmp_path):
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(SimInputError, match="unreadable"):
        results.read_metadata(tmp_path)


def test_results_hold_no_pickle(run_dir):
    names = {p.suffix for p in run_dir.rglob("*") if p.is_file()}
    assert names <= {".parquet", ".json", ".png", ".svg"}


def test_table_writer_writes_blocks_as_one_table(tmp_path):
    import numpy as np

    blocks = [
        pd.DataFrame(
            {
                "replicate": np.arange(k, k + 3),
                "x": np.linspace(0, 1, 3, dtype=np.float32),
                "date": pd.Series(["2020-01", "2020-02", "2020-03"], dtype="str"),
                "act": pd.Categorical.from_codes([0, 2, 0], categories=["a", "b", "c"]),
            }
        )
        for k in (0, 3, 6)
    ]
    units = {"x": {"unit": "index", "description": "a number"}}
    with results.TableWriter(tmp_path / "t.parquet", units) as writer:
        for block in blocks:
            writer.write(block)
        assert not (tmp_path / "t.parquet").exists()  # appears only when complete
    results.write_table(pd.concat(blocks, ignore_index=True), tmp_path / "ref.parquet", units)
    got, want = (pq.read_table(tmp_path / n) for n in ("t.parquet", "ref.parquet"))
    assert got.schema.equals(want.schema, check_metadata=True) and got.equals(want)
    assert got.schema.field("x").metadata == {b"unit": b"index", b"description": b"a number"}
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "t.parquet"), pd.concat(blocks, ignore_index=True)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.parquet", "t.parquet"]


def test_table_writer_leaves_nothing_on_error(tmp_path):
    with pytest.raises(RuntimeError), results.TableWriter(tmp_path / "t.parquet") as writer:
        writer.write(pd.DataFrame({"a": [1, 2]}))
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
