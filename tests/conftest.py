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


@pytest.fixture(scope="session", autouse=True)
def _kernel_compiled_first():
    """Compile the kernel (and the bloc search) once, before any test, into numba's disk cache.

    On a fresh checkout the first compile costs a minute or more of CPU; done here, the
    commands that tests start in subprocesses load it from the cache, so none of their
    timeouts pays for it.
    """
    from sim import api

    api.simulate(BASELINE, replicates=2, months=2, seed=0)
