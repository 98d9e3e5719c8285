"""The layering of stages is checked by import-linter, and the check has teeth."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports")

pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is not installed")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(cwd), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    return subprocess.run(
        [LINT, "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_layers_contract_is_kept():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
    assert "Validation jobs import only jobs below them KEPT" in done.stdout


def test_a_validation_job_importing_a_job_above_it_is_named(tmp_path):
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # Calibration reading the forecast job: an upward import inside validation.
    up = tmp_path / "sim" / "validation" / "calibration" / "upward.py"
    up.write_text("from sim.validation.forecast import ledger\n")
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "sim.validation.calibration.upward -> sim.validation.forecast.ledger" in done.stdout


def test_an_upward_import_breaks_the_contract_and_is_named(tmp_path):
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # The model stage importing the report stage: an upward import.
    (tmp_path / "sim" / "model" / "upward.py").write_text("from sim.report import figures\n")
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert "sim.model.upward -> sim.report.figures" in done.stdout


def test_stage_packages_show_the_flow():
    stages = ["scenario", "model", "sweeps", "analysis", "validation", "report", "commands"]
    for stage in stages:
        assert (ROOT / "sim" / stage / "__init__.py").is_file(), stage
    for job in ["facts", "data", "calibration", "backtest", "forecast"]:
        assert (ROOT / "sim" / "validation" / job / "__init__.py").is_file(), job
    # Public names stay where users import them from.
    from sim import api  # noqa: F401
    from sim.model import AllianceModel  # noqa: F401
    from sim.scenario import as_scenario, load  # noqa: F401
