"""The measured core: positions from the data's own errors, distances derived, the cutoff held."""

from pathlib import Path

import numpy as np
import pytest

from sim.validation.data import unga
from sim.validation.skill import core

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "unga" / "ideal_points_2000_2019.csv"
STATES = {
    "iran": ("IRN",),
    "united_states": ("USA",),
    "gulf": ("SAU", "ARE", "BHR", "KWT", "OMN", "QAT"),
}
PAIRS = (("iran", "united_states"), ("iran", "gulf"), ("united_states", "gulf"))


def _poisoned(tmp_path: Path, after: int) -> Path:
    lines = SHIPPED.read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if int(cells[3]) > after:
            cells[5:9] = ["garbage", "x", "", "nan"]  # rows after the cutoff: unreadable
        out.append(",".join(cells))
    path = tmp_path / "poisoned.csv"
    path.write_text("\n".join(out) + "\n")
    return path


@pytest.fixture(scope="module")
def fitted():
    return core.fit(unga.load(2012), STATES, 2000)


def test_rows_after_the_cutoff_altered_to_garbage_give_identical_forecasts(tmp_path, fitted):
    again = core.fit(unga.load(2012, _poisoned(tmp_path, 2012)), STATES, 2000)
    assert again.params == fitted.params
    a = fitted.distances(PAIRS, 3, 500, seed=7)
    b = again.distances(PAIRS, 3, 500, seed=7)
    assert np.array_equal(a, b)


def test_distances_are_derived_from_positions_of_the_group_mean(fitted):
    mean, cov = fitted.position_moments(1)
    gulf = list(fitted.members["gulf"])
    assert len(gulf) == 6 and cov.shape == (8, 8)
    d = fitted.distances(PAIRS, 1, 4000, seed=1)
    usa, irn = fitted.members["united_states"][0], fitted.members["iran"][0]
    assert (d >= 0).all()
    assert d[0].mean() == pytest.approx(abs(mean[usa] - mean[irn]), rel=0.05)
    assert d[2].mean() == pytest.approx(abs(mean[usa] - mean[gulf].mean()), rel=0.05)


def test_uncertainty_grows_with_the_horizon_and_includes_measurement_error(fitted):
    _, one = fitted.position_moments(1)
    _, four = fitted.position_moments(4)
    assert (np.diag(four) > np.diag(one)).all()
    assert (np.diag(one) >= fitted.future_obs_var).all()


def test_the_gulf_members_are_pooled_toward_a_bloc_level(fitted):
    assert 0 < fitted.params["phi.2"] < 1
    assert set(fitted.params) == {"q.0", "q.1", "q_bloc.2", "q_dev.2", "phi.2", "tau2"}
