"""Fast, browser-free tests of the explorer: slider specs, components, same model as `sim run`."""

import argparse
import subprocess

import numpy as np
import pytest

from sim.commands import explore
from sim.errors import SimInputError
from sim.model import AllianceModel
from sim.report import viz
from tests.conftest import BASELINE


def _same(a: AllianceModel, b: AllianceModel) -> None:
    ta, tb = a.trajectory(), b.trajectory()
    np.testing.assert_array_equal(ta.alignment, tb.alignment)
    np.testing.assert_array_equal(ta.actions, tb.actions)
    np.testing.assert_array_equal(ta.fired, tb.fired)


def test_model_params_cover_key_sliders_and_seed():
    params = viz.model_params(BASELINE)
    assert params["scenario"] == str(BASELINE)
    assert params["seed"]["type"] == "InputText"
    values = viz.load(BASELINE).parameters()
    for name in viz.KEY_PARAMETERS:
        spec = params[name]
        assert spec["type"] == "SliderFloat"
        assert spec["min"] <= spec["value"] == values[name] <= spec["max"]
        assert 0 < spec["step"] < spec["max"] - spec["min"]
    assert -1.0 <= params["alignment.iran.russia"]["min"]
    assert params["events.western_offer.hazard"]["max"] <= 0.2


def test_slider_ranges_fall_back_without_evidence(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sim.scenario.evidence", None)  # import fails
    ranges = viz.slider_ranges(BASELINE, viz.KEY_PARAMETERS)
    assert ranges["alignment.iran.russia"] == (-1.0, 1.0)
    assert ranges["actors.iran.weights.trust"] == (0.0, 1.0)
    assert ranges["events.unsc_crisis.hazard"] == (0.0, viz.HAZARD_MAX)


def test_fallback_ranges_by_scale():
    assert viz.fallback_range("alignment.iran.russia", 0.45) == (-1.0, 1.0)
    assert viz.fallback_range("actors.iran.position.nuclear", 0.2) == (-1.0, 1.0)
    assert viz.fallback_range("actors.iran.weights.trust", 0.5) == (0.0, 1.0)
    assert viz.fallback_range("events.x.hazard", 0.5) == (0.0, 0.5)
    assert viz.fallback_range("actors.iran.weights.trust", 1.5) == (0.0, 1.5)


def test_page_model_equals_alliance_model_at_defaults():
    page_model = viz.ExploreModel(**viz.initial_kwargs(viz.model_params(BASELINE)))
    direct = AllianceModel(BASELINE, seed=0)
    for _ in range(24):
        page_model.step()
        direct.step()
    _same(page_model, direct)
    assert [a.action for a in page_model.actor_agents] == [a.action for a in direct.actor_agents]


def test_page_model_equals_alliance_model_with_moved_sliders():
    kwargs = viz.initial_kwargs(viz.model_params(BASELINE))
    moved = {"actors.russia.salience.ukraine": 1.0, "events.western_offer.hazard": 0.2}
    page_model = viz.ExploreModel(**{**kwargs, **moved, "seed": "7"})
    direct = AllianceModel(BASELINE, seed=7, **moved)
    for _ in range(30):
        page_model.step()
        direct.step()
    _same(page_model, direct)


def test_mesa_accepts_the_constructor():
    pytest.importorskip("solara")
    from mesa.visualization.solara_viz import _check_model_params

    _check_model_params(viz.ExploreModel.__init__, viz.model_params(BASELINE))


def test_seed_text():
    assert viz.parse_seed(" 12 ") == 12
    assert viz.parse_seed("") == 0
    with pytest.raises(SimInputError, match="seed"):
        viz.parse_seed("abc")
    with pytest.raises(SimInputError):
        viz.parse_seed(-3)


def test_figures_and_status_follow_the_model():
    model = viz.ExploreModel(
        BASELINE,
        seed=0,
        **{"actors.russia.salience.ukraine": 1.0, "events.western_offer.hazard": 0.2},
    )
    assert "Month 0 of 120" in viz.status_markdown(model)
    for _ in range(12):
        model.step()
    text = viz.status_markdown(model)
    assert "Month 12 of 120 (2016-11)" in text
    p = model.params
    expected = [
        m + 1
        for m, a in enumerate(model.trajectory().actions[0])
        if a[p.betrayer] == p.betrayal_action
    ]
    assert viz.betrayal_months(model) == expected
    assert ("betrayed" in text) == bool(expected)
    for make in (viz.graph_figure, viz.dyads_figure, viz.actions_figure):
        assert make(model).axes


def test_components_build():
    pytest.importorskip("solara")
    parts = viz.components()
    assert len(parts) == 5
    assert all(page == 0 for _, page in parts)
    assert callable(viz.make_page(BASELINE))


# --- the command ---------------------------------------------------------------------------


def test_missing_solara_gives_install_hint(monkeypatch):
    monkeypatch.setattr(explore.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SimInputError, match="pip install"):
        explore.check_viz_installed()


def test_incompatible_ipyvuetify_is_refused(monkeypatch):
    pytest.importorskip("solara")
    real = explore._version
    monkeypatch.setattr(explore, "_version", lambda d: "3.1.0" if d == "ipyvuetify" else real(d))
    with pytest.raises(SimInputError, match="ipyvuetify"):
        explore.check_viz_installed()


def test_explore_serves_and_stops_on_ctrl_c(monkeypatch, capsys):
    pytest.importorskip("solara")
    seen = {}

    class FakeServer:
        def __init__(self, cmd, env, start_new_session):
            seen["cmd"], seen["env"] = cmd, env
            self.signals = []

        def wait(self, timeout=None):
            if not self.signals:
                raise KeyboardInterrupt
            return 0

        def poll(self):
            return 0 if self.signals else None

        def send_signal(self, sig):
            self.signals.append(sig)

    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    args = argparse.Namespace(scenario=str(BASELINE), port=8799, host="127.0.0.1")
    assert explore.run(args) == 0
    assert "http://127.0.0.1:8799/" in capsys.readouterr().out
    assert seen["cmd"][1:4] == ["-m", "solara", "run"] and "8799" in seen["cmd"]
    assert seen["env"][viz.SCENARIO_ENV] == str(BASELINE.resolve())


def test_explore_rejects_bad_input():
    from sim.commands import cli

    assert cli.main(["explore", "no/such/scenario.toml", "--port", "8799"]) == 2
    assert cli.main(["explore", "--port", "70000"]) == 2


def test_page_model_is_replicate_zero_of_sim_run():
    from sim import api

    res = api.simulate(BASELINE, replicates=2, seed=3, months=24)
    model = viz.ExploreModel(BASELINE, seed="3", months=24)
    while model.running:
        model.step()
    series = res.series[res.series.replicate == 0].sort_values("month")
    traj = model.trajectory()
    for k, (i, j) in enumerate(traj.pairs):
        a, b = res.params.actors[i], res.params.actors[j]
        np.testing.assert_allclose(series[f"alignment:{a}-{b}"], traj.alignment[0, :, k])
