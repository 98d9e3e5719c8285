import math

import pytest

from sim import scenario
from sim.errors import SimInputError

from .conftest import BASELINE, SCENARIOS


def test_baseline_loads_with_four_actors(baseline):
    assert baseline.actor_ids == ("iran", "russia", "united_states", "gulf")
    assert len(baseline.issues) == 6
    assert baseline.outcome("defection").fields["actor"] == "russia"
    assert baseline.deals[0].actor == "russia" and baseline.start == "2015-12"
    assert baseline.alignment[("iran", "russia")] == pytest.approx(0.45)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_loads(path):
    if path.name.startswith("evidence"):
        pytest.skip("evidence table, not a scenario")
    sc = scenario.load(path)
    assert sc.months > 0


def test_parameters_are_named_and_finite(baseline):
    names = baseline.parameters()
    assert names["actors.russia.salience.ukraine"] == pytest.approx(0.8)
    assert names["alignment.iran.russia"] == pytest.approx(0.45)
    assert all(math.isfinite(v) for v in names.values())


def test_override_changes_only_that_number(baseline):
    changed = baseline.with_overrides({"actors.russia.salience.ukraine": "0.3"})
    assert changed.actor("russia").salience["ukraine"] == pytest.approx(0.3)
    assert baseline.actor("russia").salience["ukraine"] == pytest.approx(0.8)
    assert changed.actor("iran") == baseline.actor("iran")


def test_unknown_override_names_the_field(baseline):
    with pytest.raises(SimInputError, match="actors.russia.salience.ukrain"):
        baseline.with_overrides({"actors.russia.salience.ukrain": 0.3})


def test_override_out_of_range_is_refused(baseline):
    with pytest.raises(SimInputError, match=r"out of range.*\[0, 1\]"):
        baseline.with_overrides({"actors.russia.salience.ukraine": 1.5})


def test_new_actor_needs_no_code(tmp_path, baseline):
    text = (
        BASELINE.read_text()
        + """
[actors.eu3]
label = "EU3"
capability = 0.2
temperature = 0.1
memory = 0.98
position = { syria_survival = -0.5, syria_end_state = -0.5, ukraine = -0.7, nuclear = 0.5, regional_balance = -0.3, western_ties = 1.0 }
salience = { syria_survival = 0.3, syria_end_state = 0.3, ukraine = 0.6, nuclear = 0.7, regional_balance = 0.3, western_ties = 0.6 }
weights = { alignment = 0.3, reciprocity = 0.3, trust = 0.2, autonomy = 0.1 }
[actors.eu3.actions.mediate]
stance = { iran = 0.5, united_states = 0.5 }
issues = { nuclear = 0.2 }
[actors.eu3.actions.sanction]
stance = { iran = -0.5, russia = -0.5 }
"""
    )
    text = text.replace(
        "united_states.gulf = 0.6",
        "united_states.gulf = 0.6\neu3.iran = 0.0\n"
        "eu3.russia = -0.3\neu3.united_states = 0.7\neu3.gulf = 0.3",
    )
    path = tmp_path / "eu3.toml"
    path.write_text(text)
    sc = scenario.load(path)
    assert sc.actor_ids[-1] == "eu3"
    from sim import api

    res = api.simulate(sc, replicates=20, seed=1, months=24)
    assert "bloc_eu3" in res.runs.columns
    assert len(res.runs) == 20
