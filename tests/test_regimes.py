"""Regime changes: persistent changes of the world from a date, sweepable and validated."""

import copy

import numpy as np
import pytest

from sim import api, scenario
from sim.errors import SimInputError
from sim.model import engine, rng
from sim.model.params import compile_params

from .conftest import BASELINE


def _with(regimes, base=BASELINE):
    raw = copy.deepcopy(dict(scenario.load(base).raw))
    raw["regimes"] = regimes
    return scenario.from_dict(raw, str(base))


MAX_PRESSURE = {
    "maximum_pressure": {
        "label": "The US leaves the nuclear deal",
        "date": "2018-05",
        "set": {"actors.united_states.actions.isolate_iran.bias": 0.8},
        "shift": {"issues.nuclear.stake": 0.4},
    }
}
NO_MORE_OFFERS = {
    "no_more_offers": {
        "date": "2022-02",
        "set": {
            "events.western_offer.hazard": 0.0,
            "actors.united_states.actions.offer_bargain.available": False,
        },
        "shift": {"actors.russia.salience.western_ties": -0.5},
    }
}


def test_dates_become_months_and_changes_hold_from_then_on():
    sc = _with(MAX_PRESSURE)
    assert sc.regimes[0].month == 30 and sc.date(30) == "2018-05"
    p = compile_params(sc)
    us = p.actors.index("united_states")
    isolate = p.actions[us].index("isolate_iran")
    nuclear = p.issues.index("nuclear")
    assert p.at_month(29) is p  # nothing starts: the same object
    later = p.at_month(30)
    assert later.bias[0, us, isolate] == pytest.approx(0.8)
    assert later.stake_base[0, nuclear] == pytest.approx(p.stake_base[0, nuclear] + 0.4)
    assert later.at_month(31) is later  # persistent: nothing more happens


def test_both_examples_of_the_design_are_expressible():
    sc = _with({**MAX_PRESSURE, **NO_MORE_OFFERS})
    res = api.simulate(sc, replicates=100, seed=3, keep_series=True)
    s = res.series
    us = s[(s.date >= "2018-06") & (s.date <= "2022-01")]["action__united_states"]
    assert (us == "isolate_iran").mean() > 0.9
    late = s[s.date >= "2022-02"]["action__united_states"]
    assert not (late == "offer_bargain").any()


def test_regime_month_is_sweepable_per_row():
    sc = _with(MAX_PRESSURE)
    p = compile_params(sc)
    rows = p.assign({"regimes.maximum_pressure.month": np.array([5, 50])})
    us = p.actors.index("united_states")
    isolate = p.actions[us].index("isolate_iran")
    at5 = rows.at_month(5)
    assert at5.bias[:, us, isolate].tolist() == [0.8, 0.0]
    keys = rng.run_keys(1, np.zeros(2, dtype=np.int64), np.arange(2))
    traj = engine.simulate(rows, keys, 60)
    one = engine.simulate(
        compile_params(sc.with_overrides({"regimes.maximum_pressure.month": 5})), keys[:1], 60
    )
    np.testing.assert_array_equal(traj.actions[0], one.actions[0])


def test_a_regime_changes_nothing_before_its_month():
    base = api.simulate(BASELINE, replicates=50, seed=4, keep_series=True).series
    changed = api.simulate(_with(MAX_PRESSURE), replicates=50, seed=4, keep_series=True).series
    before = base.month < 30
    assert base[before].equals(changed[before])
    assert not base[~before].equals(changed[~before])


@pytest.mark.parametrize(
    "regime, field, message",
    [
        ({"x": {"date": "2030-01", "set": {"dynamics.rate": 0.2}}}, "regimes.x.date", "outside"),
        ({"x": {"date": "2018-5", "set": {"dynamics.rate": 0.2}}}, "regimes.x.date", "not a date"),
        ({"x": {"month": 3, "set": {"actors.iran.nope": 1.0}}}, "actors.iran.nope", "unknown"),
        ({"x": {"month": 3, "set": {"alignment.iran.russia": 0.1}}}, "alignment", "a regime can"),
        ({"x": {"month": 3, "set": {"dynamics.rate": 2.0}}}, "regimes.x", "invalid"),
        ({"x": {"month": 3, "shift": {"actors.iran.memory": 0.5}}}, "regimes.x", "invalid"),
        ({"x": {"month": 3}}, "regimes.x", "at least one change"),
    ],
)
def test_bad_regimes_name_the_field(regime, field, message):
    with pytest.raises(SimInputError) as err:
        _with(regime)
    assert field in str(err.value) and message in str(err.value)
