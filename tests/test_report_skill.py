"""The report's section and figures of a rolling-origin evaluation directory."""

import json

import numpy as np
import pandas as pd

from sim.report import skill


def _directory(tmp_path):
    out = tmp_path / "ev"
    out.mkdir()
    names = ["core", "mean5"]
    rows = []
    for name in names:
        rows.append((name, "all", 8, 0.14, 0.5, 0.9))
        for h in (1, 2):
            rows.append((name, f"horizon={h}", 4, 0.13 + 0.01 * h, 0.5, 0.9))
    cols = ["forecaster", "group", "n", "crps", "cover_50", "cover_90"]
    pd.DataFrame(rows, columns=cols).to_parquet(out / "summary.parquet")
    pd.DataFrame(
        {
            "forecaster": ["core"],
            "reference": ["mean5"],
            "group": ["all"],
            "n": [8],
            "mean": [-0.01],
            "low": [-0.02],
            "high": [np.nan],
            "origins": [2],
        }
    ).to_parquet(out / "paired.parquet")
    pit = [(n, b, 0.2) for n in names for b in range(5)]
    pd.DataFrame(pit, columns=["forecaster", "bin", "share"]).to_parquet(out / "pit.parquet")
    pd.DataFrame(
        {"origin": [2015, 2016], "beta": [0.0, 2.0], "se": [np.nan, 1.0], "low": [np.nan, 0.4],
         "high": [np.nan, 3.6], "n": [0, 6]}
    ).to_parquet(out / "coefficients.parquet")  # fmt: skip
    meta = {"kind": "evaluation", "evaluation_name": "t", "origins": [2015, 2016]}
    (out / "metadata.json").write_text(json.dumps(meta))
    return out, meta


def test_the_section_shows_scores_differences_and_figures(tmp_path):
    out, meta = _directory(tmp_path)
    text = skill.section_html(out, meta)
    assert "Rolling-origin evaluation: t" in text
    assert "-0.010 [-0.020, n/a] (n=8)" in text and "reference" in text
    assert text.count("<figure") == 3


def test_the_figures_are_written(tmp_path):
    out, meta = _directory(tmp_path)
    written = skill.write_figures(out, skill.caption_of(meta))
    assert {p.stem for p in written} == {"crps_by_horizon", "pit", "coefficient"}
