from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"


@pytest.fixture(scope="session")
def baseline():
    from sim import scenario

    return scenario.load(BASELINE)


# Property tests explore the same examples on every run, so CI never flakes on a new draw.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("sim", derandomize=True, deadline=None)
_hypothesis_settings.load_profile("sim")
