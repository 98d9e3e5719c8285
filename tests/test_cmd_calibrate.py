"""`sim calibrate`: the command writes a self-describing calibration directory."""

import json
from pathlib import Path

import pandas as pd

from sim.commands.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
PNG = b"\x89PNG\r\n\x1a\n"


def test_calibrate_screens_calibrates_and_writes_the_directory(tmp_path, capsys):
    out = tmp_path / "cal"
    args = [
        "calibrate",
        BASELINE,
        "--until",
        "2019",
        "--top",
        "2",
        "--population",
        "30",
        "--generations",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "posterior predictive coverage" in text and str(out) in text
    for name in (
        "metadata.json",
        "posterior.parquet",
        "history.db",
        "diagnostics.parquet",
        "screening.parquet",
        "predictive.parquet",
        "observed.parquet",
    ):
        assert (out / name).is_file(), name
    for fig in ("marginals", "pairs", "predictive", "screening"):
        assert (out / "figures" / f"{fig}.png").read_bytes()[:8] == PNG
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "calibration" and meta["until"] == 2019 and meta["seed"] == 2019
    assert len(meta["data"]["sha256"]) == 64 and meta["data"]["years"] == [2016, 2017, 2018, 2019]
    assert meta["versions"]["pyabc"].startswith("0.13")
    assert meta["screening"]["candidates"] > 100
    screened = pd.read_parquet(out / "screening.parquet")
    assert meta["parameters_calibrated"][:2] == list(screened.name[:2])
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 30 and abs(post.weight.sum() - 1) < 1e-9
    assert pd.read_parquet(out / "observed.parquet").year.max() == 2019
    # An existing directory is kept unless --force.
    assert main(args) == 2


def test_calibrate_rejects_what_cannot_be_calibrated(tmp_path, capsys):
    base = ["calibrate", BASELINE, "--until", "2019", "--out", str(tmp_path / "c")]
    assert main([*base, "--parameters", "deals.syria_for_ukraine.binds"]) == 2
    assert "cannot be calibrated" in capsys.readouterr().err
    assert main([*base, "--parameters", "dynamics.action", "--population", "3"]) == 2
    assert main(["calibrate", BASELINE, "--until", "2012", "--out", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "c").exists()
