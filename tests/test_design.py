import numpy as np
import pytest

from sim.sweeps import design
from sim.sweeps.experiment import Parameter, load_experiment, shrink
from tests.conftest import ROOT

A = Parameter("a", 0.0, 1.0)
B = Parameter("b", 10.0, 20.0)
M = Parameter("m", 1.0, 24.0, integer=True)


def test_grid_is_full_factorial():
    pts = design.grid([A, B], 3)
    assert pts.shape == (9, 2)
    assert set(pts[:, 0]) == {0.0, 0.5, 1.0} and set(pts[:, 1]) == {10.0, 15.0, 20.0}
    assert len({tuple(p) for p in pts}) == 9


def test_lhs_stratifies_each_parameter_and_is_seeded():
    pts = design.lhs([A, B], 10, seed=3)
    for k, p in enumerate((A, B)):
        bins = np.floor((pts[:, k] - p.low) / (p.high - p.low) * 10).astype(int)
        assert sorted(bins) == list(range(10))
    np.testing.assert_array_equal(pts, design.lhs([A, B], 10, seed=3))
    assert not np.array_equal(pts, design.lhs([A, B], 10, seed=4))


def test_salib_sizes_and_bounds():
    s = design.sobol([A, B, M], 8, seed=1, second_order=False)
    assert s.shape == (8 * (3 + 2), 3)
    s2 = design.sobol([A, B, M], 8, seed=1, second_order=True)
    assert s2.shape == (8 * (2 * 3 + 2), 3)
    m = design.morris([A, B], 5, levels=4, seed=1)
    assert m.shape == (5 * (2 + 1), 2)
    for pts in (s, m):
        assert (pts[:, 0] >= 0).all() and (pts[:, 0] <= 1).all()


def test_integer_parameters_round():
    pts = design.round_integers(design.lhs([A, M], 20, seed=0), [A, M])
    assert np.all(pts[:, 1] == np.rint(pts[:, 1]))
    assert not np.all(pts[:, 0] == np.rint(pts[:, 0]))


@pytest.mark.parametrize("name", ["betrayal_sweep", "alignment_drift_sobol"])
def test_experiment_points_table(name):
    exp = shrink(load_experiment(ROOT / "experiments" / f"{name}.toml"), points=8)
    values = design.sample(exp)
    table = design.points_table(exp, values)
    assert list(table.columns) == ["point", *exp.names]
    for p in exp.parameters:
        assert table[p.name].between(p.low, p.high).all()
    np.testing.assert_array_equal(values, design.sample(exp))
