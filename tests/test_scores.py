"""Scoring rules against analytic values; the paired bootstrap."""

import math

import numpy as np
import pytest

from sim.validation.backtest import scores


def test_brier_is_the_squared_error_of_the_probability():
    assert scores.brier([1, 0, 1], [0.2, 0.2, 1.0]) == pytest.approx([0.64, 0.04, 0.0])


def test_log_score_is_minus_log_of_the_probability_of_what_happened():
    assert scores.log_score([1, 0], [0.2, 0.2]) == pytest.approx([math.log(5), -math.log(0.8)])


def test_log_score_clips_certainty_so_a_confident_miss_is_finite():
    assert scores.log_score([1], [0.0])[0] == pytest.approx(-math.log(scores.EPS))
    assert scores.log_score([0], [1.0])[0] == pytest.approx(-math.log(scores.EPS))


def test_crps_of_an_ensemble_is_mean_error_minus_half_mean_spread():
    # members {0, 1, 1}, y = 0: E|X - y| = 2/3, E|X - X'| / 2 = (2 * 1/3 * 2/3) / 2 = 2/9
    assert scores.crps_ensemble(0.0, np.array([0.0, 1.0, 1.0])) == pytest.approx(4 / 9)
    # weights stand for repeated members
    weighted = scores.crps_ensemble(0.0, np.array([0.0, 1.0]), np.array([1 / 3, 2 / 3]))
    assert weighted == pytest.approx(4 / 9)


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert scores.crps_ensemble(3.0, np.array([5.0])) == pytest.approx(2.0)
    assert scores.crps_point(3.0, 5.0) == 2.0


def test_crps_of_a_binomial_count_matches_its_definition():
    # CRPS = sum over k of (F(k) - 1{y <= k})^2 for an integer-valued forecast
    from scipy import stats

    n, p, y = 5, 0.3, 2
    cdf = stats.binom.cdf(np.arange(n + 1), n, p)
    expected = float(np.sum((cdf - (y <= np.arange(n + 1))) ** 2))
    assert scores.crps_binomial(y, n, p) == pytest.approx(expected)
    assert scores.crps_binomial(0, 1, 0.5) == pytest.approx(0.25)


def test_paired_bootstrap_centres_on_the_mean_and_is_seeded():
    diff = np.array([-0.2, -0.1, 0.0, 0.05, -0.3])
    mean, low, high = scores.paired_bootstrap(diff, seed=1, draws=2000)
    assert mean == pytest.approx(diff.mean())
    assert diff.min() <= low < mean < high <= diff.max()
    assert scores.paired_bootstrap(diff, seed=1, draws=2000) == (mean, low, high)
    wide = np.random.default_rng(0).normal(size=40)
    assert scores.paired_bootstrap(wide, seed=1) != scores.paired_bootstrap(wide, seed=2)


def test_paired_bootstrap_of_a_constant_difference_has_no_width():
    assert scores.paired_bootstrap(np.full(4, 0.1), seed=0) == pytest.approx((0.1, 0.1, 0.1))
    assert all(math.isnan(x) for x in scores.paired_bootstrap(np.array([]), seed=0))
