"""The model as a drift covariate: its coefficient, and the refusal of a leaking calibration."""

import numpy as np
import pytest

from sim.errors import SimInputError
from sim.validation.skill import covariate


def test_a_known_drift_coefficient_is_recovered_from_synthetic_errors():
    gen = np.random.default_rng(5)
    x = gen.normal(0.0, 0.05, size=400)
    residual = 2.5 * x + gen.normal(0.0, 0.1, size=400)
    c = covariate.coefficient(x, residual)
    lo, hi = c.interval()
    assert lo < 2.5 < hi
    assert c.beta == pytest.approx(2.5, abs=3 * c.se)
    assert c.se < 0.2 and c.n == 400


def test_no_earlier_forecast_gives_a_zero_coefficient_the_core_itself():
    c = covariate.coefficient(np.array([]), np.array([]))
    assert c.beta == 0.0 and c.n == 0 and np.isnan(c.se)


def test_a_calibration_that_saw_a_later_session_is_refused():
    covariate.check_calibration(2015, 2015, "e.toml", "forecasters.model.calibration")
    covariate.check_calibration(None, 2010, "e.toml", "forecasters.model.calibration")
    with pytest.raises(SimInputError, match="leak"):
        covariate.check_calibration(2019, 2016, "e.toml", "forecasters.model.calibration")
