import numpy as np
from scipy import stats

from sim.model import rng


def test_uniforms_in_unit_interval_and_uniform():
    keys = rng.run_keys(3, np.zeros(4000, np.uint64), np.arange(4000))
    u = rng.uniforms(keys, 5, 8)
    assert u.shape == (4000, 8)
    assert (u >= 0).all() and (u < 1).all()
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3


def test_stream_depends_only_on_its_own_key():
    keys = rng.run_keys(11, np.array([2, 2, 2]), np.array([0, 1, 2]))
    alone = rng.run_keys(11, np.array([2]), np.array([1]))
    assert alone[0] == keys[1]
    np.testing.assert_array_equal(rng.uniforms(alone, 7, 5)[0], rng.uniforms(keys, 7, 5)[1])


def test_keys_differ_across_seed_point_and_replicate():
    base = rng.run_keys(1, np.array([0]), np.array([0]))[0]
    assert rng.run_keys(2, np.array([0]), np.array([0]))[0] != base
    assert rng.run_keys(1, np.array([1]), np.array([0]))[0] != base
    assert rng.run_keys(1, np.array([0]), np.array([1]))[0] != base


def test_months_do_not_overlap():
    keys = rng.run_keys(5, np.array([0]), np.array([0]))
    a, b = rng.uniforms(keys, 0, 4), rng.uniforms(keys, 1, 4)
    assert not np.intersect1d(a, b).size


def test_streams_are_uncorrelated():
    keys = rng.run_keys(9, np.zeros(2, np.uint64), np.arange(2))
    draws = np.stack([rng.uniforms(keys, t, 1)[:, 0] for t in range(5000)])
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 0.05
