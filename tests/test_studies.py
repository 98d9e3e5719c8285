"""Every shipped study script runs end to end (tiny replicate counts) and writes its report."""

import os
import subprocess

import pytest

from tests.conftest import ROOT

STUDIES = sorted((ROOT / "experiments").glob("*.sh"))


@pytest.mark.parametrize("script", STUDIES, ids=lambda p: p.name)
def test_study_script_writes_a_report(script, tmp_path):
    env = {**os.environ, "REPLICATES": "3"}
    proc = subprocess.run(
        ["bash", str(script), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<img" in html or "<svg" in html
