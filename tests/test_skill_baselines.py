"""Naive baselines: draws as documented, and CRPS against values computed by hand."""

import numpy as np
import pytest

from sim.validation.skill import baselines, scores

# Two pairs, five sessions; the last row is the origin.
HISTORY = np.array([[1.0, 2.0], [1.2, 2.1], [1.1, 2.4], [1.5, 2.2], [1.4, 2.3]])


def _crps_by_hand(draws, y):
    draws = np.asarray(draws, dtype=float)
    return np.abs(draws - y).mean() - 0.5 * np.abs(draws[:, None] - draws[None, :]).mean()


def test_crps_is_the_empirical_distributions():
    assert scores.crps(np.array([1.0, 2.0]), 1.0) == pytest.approx(0.5 - 0.25)
    assert scores.crps(np.array([3.0]), 1.0) == pytest.approx(2.0)


def test_persistence_per_pair_and_pooled():
    per = baselines.persistence(HISTORY, 2, pooled=False)
    # pair 0's 2-session changes: 0.1, 0.3, 0.3, from 1.4
    assert np.allclose(np.sort(per[0]), [1.5, 1.7, 1.7])
    assert scores.crps(per[0], 1.6) == pytest.approx(_crps_by_hand([1.5, 1.7, 1.7], 1.6))
    assert scores.crps(per[0], 1.6) == pytest.approx(0.1 - 2 * 2 * 0.2 / 9 / 2)
    pooled = baselines.persistence(HISTORY, 2, pooled=True)
    assert len(pooled[1]) == 6
    changes = [0.1, 0.3, 0.3, 0.4, 0.1, -0.1]
    assert np.allclose(np.sort(pooled[1]), np.sort(2.3 + np.array(changes)))
    assert scores.crps(pooled[1], 2.5) == pytest.approx(_crps_by_hand(2.3 + np.array(changes), 2.5))


def test_random_walk_with_drift():
    draws = baselines.drift(HISTORY, 2, 1001)
    ch = np.diff(HISTORY[:, 0])  # 0.2, -0.1, 0.4, -0.1
    assert np.median(draws[0]) == pytest.approx(1.4 + 2 * ch.mean())
    assert draws[0].std() == pytest.approx(np.sqrt(2) * ch.std(ddof=1), rel=0.01)
    assert scores.crps(draws[0], 1.6) == pytest.approx(_crps_by_hand(draws[0], 1.6))


def test_five_year_mean_with_pooled_errors():
    history = np.vstack([HISTORY, [[1.3, 2.5]]])  # six sessions: one 5-session mean before
    draws = baselines.window_mean(history, 1, 5)
    first = HISTORY.mean(axis=0)  # the mean of sessions 1-5 forecast session 6
    errors = history[5] - first
    last = history[1:].mean(axis=0)
    assert np.allclose(draws[0], last[0] + errors)
    assert scores.crps(draws[0], 1.3) == pytest.approx(_crps_by_hand(last[0] + errors, 1.3))


def test_coverage_and_pit():
    draws = np.arange(101, dtype=float)
    assert scores.covered(draws, 50.0, 0.5) and not scores.covered(draws, 80.0, 0.5)
    assert scores.pit(draws, 50.0) == pytest.approx(50.5 / 101)
    assert np.allclose(
        scores.pit_histogram([0.05, 0.15, 0.95, 0.99], 10)[[0, 1, 9]], [0.25, 0.25, 0.5]
    )
