"""Events decided by the drivers, the probabilistic persistence baseline and the skill on the
informative events (`sim.validation.backtest.backtest`).
"""

import numpy as np
import pandas as pd
import pytest

from sim.validation.backtest import backtest, ensemble, scores
from sim.validation.backtest.events import load_events

from .conftest import ROOT

SCENARIO = ROOT / "scenarios" / "history_2015_2025.toml"

# The US leaves the deal in 2018-05 (regime us_leaves_deal: engage_iran unavailable) and seeks
# a return only from 2021-01: engaging Iran in 2018-07..2020-12 is ruled out by a regime.
PLANTED = f"""
[backtest]
name = "planted"
scenario = "{SCENARIO}"
calibration_end = "2019-12"

[events.us_engages_2018_2020]
label = "the US engages Iran at least once in 2018-07..2020-12"
period = "after"
kind = "action_months"
actor = "united_states"
actions = ["engage_iran"]
at_least = 1
window = ["2018-07", "2020-12"]
observed = false
definition = "x"
source = "x"

[events.iran_russia_2019]
label = "Iran-Russia alignment higher in 2019 than at the start"
period = "calibration"
kind = "alignment_change"
pair = ["iran", "russia"]
reference = ["2015-11", "2015-11"]
window = ["2019-01", "2019-12"]
direction = "higher"
observed = false
definition = "x"
source = "x"

[events.iran_us_2019]
label = "Iran-US alignment lower in 2019 than at the start"
period = "calibration"
kind = "alignment_change"
pair = ["iran", "united_states"]
reference = ["2015-11", "2015-11"]
window = ["2019-01", "2019-12"]
direction = "lower"
observed = true
definition = "x"
source = "x"
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("planted") / "events.toml"
    path.write_text(PLANTED)
    events = load_events(path)
    return backtest.score(events, ensemble.build(events.scenario, 40, seed=3), seed=3)


def test_an_event_a_regime_rules_out_is_decided_by_the_drivers(planted):
    t = planted.table.set_index("event")
    engage = t.loc["us_engages_2018_2020"]
    assert engage.forecast == 0.0  # the regime makes the action unavailable in every run
    assert planted.free["us_engages_2018_2020"].mean() > 0.02  # without it the US does engage
    assert engage.decided_by == "drivers" and not engage.informative
    assert t.loc["iran_russia_2019"].decided_by == "" and t.loc["iran_russia_2019"].informative


def test_decided_events_are_left_out_of_the_informative_scores(planted):
    s, t = planted.summary, planted.table
    row = s[
        (s.subset == "informative")
        & (s.period == "all")
        & (s.score == "brier")
        & (s.forecaster == "model")
    ].iloc[0]
    informative = t[t.informative]
    assert "us_engages_2018_2020" not in set(informative.event) and len(informative) >= 1
    assert row.events == len(informative)
    assert row["mean"] == pytest.approx(informative.brier_model.mean())
    decided = s[(s.subset == "decided") & (s.forecaster == "model") & (s.period == "all")]
    n = len(t) - len(informative)
    assert decided.events.tolist() == [n, n]  # Brier and log score of the decided events
    assert decided["mean"].iloc[0] == pytest.approx(t[~t.informative].brier_model.mean())


def test_the_decided_rule_needs_the_runs_to_agree_and_the_regime_free_runs_not_to():
    w = np.full(100, 0.01)
    ones, zeros = np.ones(100), np.zeros(100)
    mixed = np.r_[np.ones(50), np.zeros(50)]
    assert backtest.decided_by(ones, mixed, w) == "drivers"
    assert backtest.decided_by(ones, ones, w) == ""  # settled without the drivers too
    assert backtest.decided_by(mixed, zeros, w) == ""  # the runs do not agree
    nearly = np.r_[np.ones(98), np.zeros(2)]
    assert backtest.decided_by(nearly, zeros, w) == "drivers"  # 98% of the weight settles it
    counts = np.r_[np.full(99, 3.0), 4.0]
    assert backtest.decided_by(counts, np.arange(100.0), w) == "drivers"


def test_persistence_is_a_probability_strictly_between_0_and_1(planted):
    # The old baseline froze alignment at its start: "higher than at the start" was 0 there.
    t = planted.table.set_index("event")
    free = planted.free["iran_russia_2019"].to_numpy(float)
    expected = (free.sum() + 0.5) / (len(free) + 1)
    assert t.loc["iran_russia_2019"].persistence == pytest.approx(expected)
    binary = planted.table[planted.table.type == "binary"]
    assert ((binary.persistence > 0) & (binary.persistence < 1)).all()
    w = np.full(40, 1 / 40)
    assert backtest.persistence_probability(np.zeros(40), w) == pytest.approx(0.5 / 41)
    assert backtest.persistence_probability(np.ones(40), w) == pytest.approx(40.5 / 41)


def test_the_informative_skill_matches_a_hand_computation():
    y = np.array([1, 1, 0, 1])
    probs = {
        "model": [0.9, 0.2, 0.6, 1.0],
        "always_0.5": [0.5] * 4,
        "base_rate": [0.7] * 4,
        "persistence": [0.4] * 4,
    }
    table = pd.DataFrame(
        {
            "event": ["a", "b", "c", "d"],
            "period": ["calibration", "calibration", "calibration", "after"],
            "type": "binary",
            "informative": [True, True, True, False],
            **{f"brier_{k}": (np.array(p) - y) ** 2 for k, p in probs.items()},
            **{f"{s}_{k}": np.nan for s in ("log", "crps") for k in probs},
        }
    )
    summary = backtest.summarise(table, seed=7)
    sk = backtest.skill(summary)
    row = sk[(sk.period == "all") & (sk.score == "brier")].iloc[0]
    # Informative events a, b, c: model (0.01 + 0.64 + 0.36) / 3; base rate (0.09 + 0.09 +
    # 0.49) / 3 is the best baseline (always 0.5: 0.25, persistence 0.88 / 3).
    assert row.events == 3
    assert row.model == pytest.approx(1.01 / 3)
    assert row.best_baseline == "base_rate" and row.baseline == pytest.approx(0.67 / 3)
    d = np.array([0.01 - 0.09, 0.64 - 0.09, 0.36 - 0.49])
    mean, lo, hi = scores.paired_bootstrap(d, seed=7)
    assert row.model_minus == pytest.approx(0.34 / 3) == pytest.approx(mean)
    assert (row.low95, row.high95) == pytest.approx((lo, hi))
    assert set(sk.period) == {"calibration", "all"}  # the one "after" event is decided
