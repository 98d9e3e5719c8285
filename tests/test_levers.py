"""Levers: EMA Workbench's feature scoring and PRIM find the known driver of an outcome."""

import numpy as np
import pandas as pd
import pytest

from sim import analysis
from sim.analysis import levers
from sim.commands.cli import main
from sim.errors import SimInputError
from tests.test_analysis import make_sweep


def synthetic(n_points=300, replicates=5, seed=0):
    """Runs of a fake sweep: the outcome is likely exactly where driver > 0.7."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n_points, 4)), columns=["driver", "noise_a", "noise_b", "noise_c"])
    x.insert(0, "point", np.arange(n_points))
    runs = x.loc[x.index.repeat(replicates)].reset_index(drop=True)
    runs.insert(1, "replicate", np.tile(np.arange(replicates), n_points))
    p = np.where(runs.driver > 0.7, 0.9, 0.05)
    runs["event"] = rng.random(len(runs)) < p
    runs["level"] = runs.driver * 2 + 0.1 * rng.normal(size=len(runs))
    return runs


NAMES = ["driver", "noise_a", "noise_b", "noise_c"]


def test_the_known_driver_ranks_first_and_bounds_the_region():
    runs = synthetic()
    lv = levers.levers(runs, NAMES, levers.case(runs, "event"), density=0.8)
    assert lv.scores.index[0] == "driver"
    assert lv.scores["driver"] > 2 * lv.scores.drop("driver").max()
    assert lv.scores.sum() == pytest.approx(1.0)
    box = lv.box
    assert box.met and box.density >= 0.8 and box.coverage > 0.7
    lo, hi = box.limits["driver"]
    assert 0.6 < lo < 0.8 and hi == pytest.approx(box.ranges["driver"][1])
    assert box.quasi_p["driver"][0] < 1e-6 and box.quasi_p["driver"][1] is None
    for noise in NAMES[1:]:  # noise is left free, or its limit is not significant
        assert noise not in box.limits or min(p for p in box.quasi_p[noise] if p) > 0.01
    assert "driver >= " in box.describe()
    text = levers.describe(lv)
    assert "feature scores" in text and "quasi-p" in text and "PRIM" in text


def test_cases_per_point_and_below_a_threshold():
    runs = synthetic(replicates=10)
    avoid = levers.case(runs, "event", below=0.5)
    assert avoid.describe() == "event is false"
    lv = levers.levers(runs, NAMES, avoid, density=0.95)
    assert lv.scores.index[0] == "driver"
    assert lv.box.limits["driver"][1] < 0.8  # avoided where the driver is low
    per_point = levers.case(runs, "event", above=0.5, per="point")
    assert per_point.describe() == "P(event) per point > 0.5"
    lv = levers.levers(runs, NAMES, per_point)
    assert lv.units == 300 and lv.box.limits["driver"][0] > 0.6
    numeric = levers.case(runs, "level", above=1.5)
    assert levers.levers(runs, NAMES, numeric).scores.index[0] == "driver"


def test_default_density_is_halfway_to_certainty():
    runs = synthetic()
    lv = levers.levers(runs, NAMES, levers.case(runs, "event"))
    assert lv.density_target == pytest.approx((1 + lv.base_rate) / 2)


def test_degenerate_cases_are_explained_not_boxed():
    runs = synthetic()
    runs["never"] = False
    lv = levers.levers(runs, NAMES, levers.case(runs, "never"))
    assert lv.box is None and "never holds" in lv.note
    lv = levers.levers(runs, NAMES, levers.case(runs, "never", below=0.5))
    assert lv.box is None and "always holds" in lv.note
    lv = levers.levers(runs, NAMES, levers.case(runs, "event"), density=0.2)
    assert "already reaches" in lv.note


def test_the_same_seed_gives_the_same_ranking():
    runs = synthetic()
    c = levers.case(runs, "event")
    a = levers.levers(runs, NAMES, c, seed=1)
    b = levers.levers(runs, NAMES, c, seed=1)
    pd.testing.assert_series_equal(a.scores, b.scores)
    assert a.box.limits == b.box.limits
    other = levers.levers(runs, NAMES, c, seed=2)
    assert not a.scores.equals(other.scores)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"outcome": "nothing"}, "--outcome"),
        ({"outcome": "level"}, "--above/--below"),
        ({"outcome": "event", "above": 0.1, "below": 0.2}, "--above/--below"),
        ({"outcome": "event", "per": "decade"}, "--per"),
    ],
)
def test_bad_cases_are_named(kw, field):
    with pytest.raises(SimInputError) as err:
        levers.case(synthetic(20, 2), **kw)
    assert field in str(err.value)


def test_levers_command(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sweep", "lhs", replicates=4)
    fig = tmp_path / "lv"
    args = ["levers", str(sweep), "--outcome", "betrayal", "--figure", str(fig)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Case: betrayal is true" in out and "Region (PRIM" in out
    assert (tmp_path / "lv-scores.png").exists() and (tmp_path / "lv-tradeoff.png").exists()
    res = analysis.load(sweep)
    assert "events.western_offer.hazard" in out
    assert res.kind == "sweep"
    assert main(["levers", str(sweep), "--outcome", "alignment_final"]) == 2
    assert main(["levers", str(sweep), "--outcome", "betrayal", "--mass-min", "2"]) == 2
