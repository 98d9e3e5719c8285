import numpy as np
import pandas as pd

from sim.analysis import discovery


def test_prim_finds_the_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(4000), "b": rng.random(4000), "c": rng.random(4000)})
    inside = (x.a > 0.6) & (x.b < 0.3)
    y = np.where(inside, rng.random(4000) < 0.95, rng.random(4000) < 0.03)
    boxes, box = discovery.discover(x.assign(hit=y), ["a", "b", "c"], "hit", min_density=0.8)
    assert boxes[0].coverage == 1.0 and boxes[0].mass == 1.0
    assert box.density >= 0.8 and box.coverage >= 0.7
    lo_a, _ = box.limits["a"]
    _, hi_b = box.limits["b"]
    assert 0.5 < lo_a < 0.7 and 0.2 < hi_b < 0.4
    assert "c" not in box.restricted()
    text = box.describe()
    assert "a >=" in text and "b <=" in text


def test_trajectory_density_rises_and_mass_falls():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.random(500)})
    y = x.a.to_numpy() > 0.5
    boxes = discovery.peel(x, y, alpha=0.1)
    table = discovery.trajectory_table(boxes)
    assert table.density.is_monotonic_increasing
    assert table.mass.is_monotonic_decreasing
    assert table.mass.iloc[-1] >= 0.05


def test_choose_falls_back_to_densest():
    boxes = [discovery.Box({}, 1.0, 0.2, 1.0), discovery.Box({}, 0.5, 0.4, 0.3)]
    assert discovery.choose(boxes, min_density=0.9) is boxes[1]
    assert discovery.choose(boxes, min_density=0.1) is boxes[0]
