"""Events and questions in the model's terms: the pre-registered file, refusals, values."""

import numpy as np
import pytest

from sim.errors import SimInputError
from sim.model.engine import Trajectory, pair_index
from sim.model.params import compile_params
from sim.scenario import load
from sim.validation.backtest import events as ev

from .conftest import ROOT

EVENTS = ROOT / "backtests" / "history_2015_2025" / "events.toml"

HEAD = """[backtest]
name = "t"
scenario = "{scenario}"
calibration_end = "2019-12"
"""
ONE = """
[events.e]
label = "Iran-Russia closer"
period = "after"
kind = "alignment_change"
pair = ["iran", "russia"]
reference = ["2015-11", "2015-11"]
window = ["2020-01", "2020-12"]
direction = "higher"
observed = true
definition = "Mean Iran-Russia alignment in 2020 above the start."
source = "A source."
"""


def _file(tmp_path, body):
    path = tmp_path / "events.toml"
    path.write_text(HEAD.format(scenario=(ROOT / "scenarios" / "baseline.toml").as_posix()) + body)
    return path


def test_the_shipped_events_are_preregistered_in_full():
    es = ev.load_events(EVENTS)
    assert len(es.scored) >= 15
    assert {e.period for e in es.scored} == {"calibration", "after"}
    assert all(e.source and e.window for e in es.events)
    assert es.scenario == (ROOT / "scenarios" / "history_2015_2025.toml").resolve()
    kinds = {e.observable.kind for e in es.scored}
    assert kinds == {"alignment_change", "action_months", "alignment_run"}
    pairs = {e.observable.fields["pair"] for e in es.scored if "pair" in e.observable.fields}
    assert len(pairs) == 6  # every pair's alignment moves
    assert any(not e.observable.binary for e in es.scored)  # numeric events too
    params = compile_params(load(es.scenario))
    for e in es.scored:
        ev.check_against(e.observable, params, 120)


@pytest.mark.parametrize("key", ["source", "window"])
def test_an_event_without_a_source_or_a_window_is_refused(tmp_path, key):
    body = "\n".join(line for line in ONE.splitlines() if not line.startswith(key))
    with pytest.raises(SimInputError) as err:
        ev.load_events(_file(tmp_path, body))
    assert err.value.field == f"events.e.{key}"
    assert "source and a date window" in str(err.value)


def test_an_empty_source_is_refused(tmp_path):
    with pytest.raises(SimInputError, match="events.e.source"):
        ev.load_events(_file(tmp_path, ONE.replace('"A source."', '" "')))


def test_the_period_must_match_the_window(tmp_path):
    with pytest.raises(SimInputError, match="allowed: after"):
        ev.load_events(_file(tmp_path, ONE.replace('period = "after"', 'period = "calibration"')))


def test_a_binary_event_needs_a_true_or_false_observation(tmp_path):
    with pytest.raises(SimInputError, match="events.e.observed"):
        ev.load_events(_file(tmp_path, ONE.replace("observed = true", "observed = 3")))


def test_unknown_actions_are_refused_against_the_scenario(tmp_path):
    body = ONE.replace('kind = "alignment_change"', 'kind = "action_months"')
    body = body.replace('pair = ["iran", "russia"]', 'actor = "iran"\nactions = ["fly"]')
    body = body.replace('reference = ["2015-11", "2015-11"]\n', "").replace(
        'direction = "higher"\n', ""
    )
    body = body.replace("observed = true", "observed = 2")
    es = ev.load_events(_file(tmp_path, body))
    params = compile_params(load(ROOT / "scenarios" / "baseline.toml"))
    with pytest.raises(SimInputError, match="unknown action"):
        ev.check_against(es.events[0].observable, params, 120)


def _traj(params, alignment, actions):
    n = len(params.actors)
    return Trajectory(
        pairs=pair_index(n),
        alignment=np.asarray(alignment, np.float32),
        actions=np.asarray(actions, np.int8),
        fired=np.zeros((len(alignment), actions.shape[1], len(params.events)), bool),
        offers=np.zeros((len(alignment), actions.shape[1], len(params.deals)), bool),
        start=params.start,
    )


def test_values_of_each_kind_on_a_known_trajectory():
    params = compile_params(load(ROOT / "scenarios" / "baseline.toml"))
    months = 6  # 2015-12 .. 2016-05
    align = np.zeros((2, months + 1, 6))
    align[0, :, 0] = [0.4, 0.5, 0.8, 0.8, 0.8, 0.1, 0.1]  # iran-russia, run 0
    align[1, :, 0] = 0.4
    actions = np.zeros((2, months, 4), np.int64)
    actions[0, :, 0] = [0, 0, 1, 0, 3, 3]  # iran: deepen, deepen, hedge, deepen, seek, seek
    traj = _traj(params, align, actions)

    def obs(kind, **fields):
        return ev.Observable("x", "x", kind, fields.pop("window"), "x", fields)

    change = obs(
        "alignment_change", pair=("iran", "russia"), window=("2016-01", "2016-02"),
        reference=("2015-11", "2015-11"), direction="higher",
    )  # fmt: skip
    assert ev.values(change, traj, params).tolist() == [True, False]
    count = obs(
        "action_months", actor="iran", actions=("deepen_russia",), window=("2015-12", "2016-03")
    )
    assert ev.values(count, traj, params).tolist() == [3.0, 4.0]
    most = obs(
        "action_months",
        actor="iran",
        actions=("seek_us",),
        window=("2016-03", "2016-05"),
        most=True,
    )
    assert ev.values(most, traj, params).tolist() == [True, False]
    run = obs(
        "alignment_run",
        pair=("iran", "russia"),
        window=("2015-12", "2016-05"),
        threshold=0.75,
        months=3,
    )
    assert ev.values(run, traj, params).tolist() == [True, False]
    short = obs(
        "alignment_run",
        pair=("iran", "russia"),
        window=("2015-12", "2016-02"),
        threshold=0.75,
        months=3,
    )
    assert ev.values(short, traj, params).tolist() == [False, False]  # the run ends later
    level = obs("alignment_level", pair=("iran", "russia"), window=("2016-04", "2016-05"))
    assert ev.values(level, traj, params) == pytest.approx([0.1, 0.4])
