"""Paired counterfactuals: same streams in both arms, identical before the intervention."""

import numpy as np
import pandas as pd
import pytest

from sim import whatif
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.model import engine, rng
from sim.model.params import compile_params
from sim.scenario import load
from tests.conftest import BASELINE, SCENARIOS


def _traj(sc, replicates=30, seed=5, months=48):
    keys = rng.run_keys(seed, np.zeros(replicates, np.uint64), np.arange(replicates))
    return engine.simulate(compile_params(sc), keys, months)


def test_no_intervention_gives_exactly_zero_differences():
    # A what-if with no change is refused (test_api_checks); setting a number to the value it
    # already has is the nearest thing, and must change nothing, run by run.
    rate = load(BASELINE).dynamics["rate"]
    res = whatif.whatif(
        BASELINE, "2018-05", set={"dynamics.rate": rate}, replicates=80, seed=3, months=60
    )
    d = res.differences
    assert len(d) > 10
    assert (d.difference.dropna() == 0).all()
    assert (d.low.dropna() == 0).all() and (d.high.dropna() == 0).all()
    assert (d.changed_runs == 0).all()
    pd.testing.assert_frame_equal(res.baseline.runs, res.changed.runs)
    assert "No outcome changed" in whatif.describe(res)


def test_arms_are_identical_before_the_intervention_and_differ_after():
    two = whatif.arms(BASELINE, "2017-06", impose={"united_states": "engage_iran"})
    m = two.month
    assert m == 19 and two.plain_baseline
    a, b = _traj(two.baseline), _traj(two.changed)
    np.testing.assert_array_equal(a.alignment[:, :m], b.alignment[:, :m])  # months 0..m-1
    np.testing.assert_array_equal(a.actions[:, : m - 1], b.actions[:, : m - 1])
    assert (b.actions[:, m - 1 :, 2] == 1).all()  # the US engages Iran from month m on
    assert not np.array_equal(a.alignment[:, m + 1 :], b.alignment[:, m + 1 :])


def test_a_random_event_fires_in_the_month_and_keeps_its_hazard_after():
    two = whatif.arms(BASELINE, 20, events=["western_offer"])
    x = compile_params(two.changed).events.index("western_offer")
    a, b = _traj(two.baseline), _traj(two.changed)
    assert b.fired[:, 19, x].all()
    np.testing.assert_array_equal(a.fired[:, 20:], b.fired[:, 20:])  # hazard restored
    np.testing.assert_array_equal(a.fired[:, :19], b.fired[:, :19])


def test_a_scheduled_event_fires_again_through_a_copy_in_both_arms():
    two = whatif.arms(SCENARIOS / "betrayal_in_syria.toml", 30, events=["ukraine_deal_offered"])
    assert not two.plain_baseline
    copy = "ukraine_deal_offered" + whatif.COPY_SUFFIX
    a, b = _traj(two.baseline), _traj(two.changed)
    x = compile_params(two.changed).events.index(copy)
    assert compile_params(two.baseline).events.index(copy) == x
    assert not a.fired[:, :, x].any() and b.fired[:, 29, x].all()
    assert b.fired[:, :, x].sum() == len(b.fired)
    np.testing.assert_array_equal(a.actions[:, :29], b.actions[:, :29])


def test_forcing_a_deal_needs_an_offer_and_then_binds():
    with pytest.raises(SimInputError, match="offer"):
        whatif.arms(BASELINE, 24, impose={"russia": "betray"})
    res = whatif.whatif(
        BASELINE,
        24,
        impose={"russia": "betray"},
        events=["western_offer"],
        replicates=20,
        months=48,
    )
    assert (res.changed.runs.betrayal_month <= 24).all()
    d = res.differences.set_index("outcome")
    assert d.loc["betrayal", "whatif"] == 1.0


def test_set_is_a_regime_from_the_date():
    two = whatif.arms(BASELINE, 12, set={"actors.russia.salience.ukraine": 0.1})
    p = compile_params(two.changed)
    name = "actors.russia.salience.ukraine"
    fname, cells = p.locate[name]
    assert getattr(p, fname)[(0, *cells[0])] == 0.8
    for m in range(1, 13):
        p = p.at_month(m)
    assert getattr(p, fname)[(0, *cells[0])] == 0.1


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"at": "2031-01", "events": ["western_offer"]}, "at"),
        ({"at": "soon", "events": ["western_offer"]}, "at"),
        ({"at": 5, "impose": {"moscow": "hedge"}}, "impose"),
        ({"at": 5, "impose": {"russia": "invade"}}, "impose"),
        ({"at": 5, "events": ["asteroid"]}, "events"),
        ({"at": 5, "set": {"alignment.iran.russia": 0.9}}, "regimes"),
        ({"at": 5, "set": {"actors.russia.salience.ukraine": 7}}, "regimes"),
    ],
)
def test_bad_interventions_are_named(kw, field):
    # From Python the error names the keyword (`sim whatif` names the flag: whatif.for_cli).
    with pytest.raises(SimInputError) as err:
        whatif.arms(BASELINE, **kw)
    assert field in str(err.value) and "--" not in str(err.value).split(":")[0]


def test_paired_intervals_are_narrower_and_results_repeat():
    kw = dict(impose={"united_states": "engage_iran"}, replicates=200, months=72)
    res = whatif.whatif(BASELINE, "2017-06", seed=1, **kw)
    d = res.differences.set_index("outcome")
    row = d.loc["alignment_final"]
    assert row.low <= row.difference <= row.high
    assert row.width_ratio > 2  # common random numbers: the paired interval is much narrower
    again = whatif.whatif(BASELINE, "2017-06", seed=1, **kw)
    pd.testing.assert_frame_equal(res.differences, again.differences)
    other = whatif.whatif(BASELINE, "2017-06", seed=2, **kw)
    assert not res.differences.difference.equals(other.differences.difference)
    diffs = whatif.alignment_differences(res, "russia", "iran")
    assert (diffs[:, : res.arms.month] == 0).all() and diffs.shape == (200, 73)


def test_paired_differences_handle_missing_months_and_categories():
    base = pd.DataFrame(
        {
            "replicate": [0, 1, 2],
            "x_month": pd.array([3, None, 5], "Int64"),
            "resp": ["a", "b", "a"],
        }
    )
    new = pd.DataFrame(
        {
            "replicate": [0, 1, 2],
            "x_month": pd.array([4, 2, None], "Int64"),
            "resp": ["a", "a", "a"],
        }
    )
    d = whatif.paired_differences(base, new).set_index("outcome")
    assert d.loc["x_month", "pairs"] == 1 and d.loc["x_month", "difference"] == 1
    assert d.loc["resp=b", "difference"] == pytest.approx(-1 / 3)
    assert d.loc["resp=a", "changed_runs"] == 1


def test_whatif_command(tmp_path, capsys):
    csv, fig = tmp_path / "d.csv", tmp_path / "fan"
    args = ["whatif", str(BASELINE), "--at", "2018-05", "-n", "30", "--months", "48"]
    assert (
        main(
            [
                *args,
                "--set",
                "actors.united_states.actions.engage_iran.bias=1.5",
                "--csv",
                str(csv),
                "--figure",
                str(fig),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "What if, from 2018-05 (month 30)" in out and "paired" in out
    assert "outcome" in pd.read_csv(csv).columns and (tmp_path / "fan.png").exists()
    assert main([*args, "--impose", "russia"]) == 2
    assert (
        main([*args, "--force", "russia=betray"]) == 2
    )  # the old meaning: not an ACTOR=ACTION flag
    assert main([*args[:-2], "--months", "12", "--event", "western_offer"]) == 2
    assert "after the horizon" in capsys.readouterr().err


def test_every_row_compares_one_subset_and_unchanged_outcomes_are_named():
    res = whatif.whatif(
        BASELINE, "2017-06", impose={"united_states": "engage_iran"}, replicates=150, seed=4
    )
    d = res.differences.dropna(subset=["difference"])
    assert np.allclose(d.whatif - d.baseline, d.difference)  # also for months of an event
    text = whatif.describe(res)
    unchanged = res.differences.outcome[res.differences.changed_runs == 0]
    plain = [o for o in unchanged if "=" not in o]
    assert plain and f"Unchanged in every run: {', '.join(plain)}." in text
