"""The measurement model: declaration, observations, prediction, summaries and priors."""

from pathlib import Path

import numpy as np
import pytest

from sim.errors import SimInputError
from sim.validation.data import measurement as ms
from sim.validation.data import unga

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def decl(baseline):
    return ms.load_declaration(BASELINE, baseline.actor_ids)


def test_the_baseline_declares_the_gulf_as_the_six_gcc_states(decl):
    assert decl.states["gulf"] == ("SAU", "ARE", "BHR", "KWT", "OMN", "QAT")
    assert ("iran", "russia") in decl.pairs and ("united_states", "gulf") in decl.pairs
    assert len(decl.pairs) == 6


def test_a_variant_uses_the_declaration_of_the_scenario_it_extends():
    assert ms.declaration_path(ROOT / "scenarios" / "us_iran_thaw.toml").name == "baseline.toml"


def test_an_unknown_actor_in_the_declaration_is_an_input_error(tmp_path, baseline):
    (tmp_path / "measurement").mkdir()
    (tmp_path / "s.toml").write_text("")
    (tmp_path / "measurement" / "s.toml").write_text(
        '[data]\nfile = "x.csv"\nanchor = [2011, 2015]\nsession_months = [9, 12]\n'
        '[states]\nchina = ["CHN"]\niran = ["IRN"]\n'
    )
    with pytest.raises(SimInputError, match="states.china"):
        ms.load_declaration(tmp_path / "s.toml", baseline.actor_ids)


def test_observations_stop_at_the_cutoff(decl, baseline):
    obs = ms.observe(decl, unga.load(2017), baseline.start)
    assert obs.years == (2016, 2017)
    assert obs.history.year.max() == 2017
    assert obs.distance.shape == (6, 2)


def test_the_group_ideal_point_is_the_mean_and_its_sd_shrinks():
    data = unga.load(2019)
    one = data.points(("SAU",))
    six = data.points(("SAU", "ARE", "BHR", "KWT", "OMN", "QAT"))
    rows = data.table[data.table.year == 2019]
    gcc = rows[rows.iso3c.isin(["SAU", "ARE", "BHR", "KWT", "OMN", "QAT"])]
    assert six.ideal_point[2019] == pytest.approx(gcc.ideal_point.mean())
    assert six.sd[2019] < one.sd[2019]


def test_predict_follows_the_declared_formula(decl, baseline):
    obs = ms.observe(decl, unga.load(2019), baseline.start)
    p, y = obs.distance.shape
    aligned = np.full((1, p, y), 0.2)
    initial = np.full((1, p), 0.5)
    one = np.ones(1)
    mean = ms.predict(aligned, initial, obs, 2 * one, 0.1 * one, 0 * one, None)
    np.testing.assert_allclose(mean[0], obs.anchor[:, None] + 0.1 + 2 * (0.5 - 0.2) + 0 * obs.sd)
    z = np.ones((1, p, y))
    noisy = ms.predict(aligned, initial, obs, 2 * one, 0.1 * one, 0.3 * one, z)
    np.testing.assert_allclose(noisy - mean, np.sqrt(0.09 + obs.sd[None] ** 2))


def test_summaries_are_change_and_trend(decl, baseline):
    obs = ms.observe(decl, unga.load(2019), baseline.start)
    years = np.array(obs.years, dtype=float)
    d = obs.anchor[None, :, None] + 1.0 + 0.5 * (years - years.mean())[None, None, :]
    s = ms.summaries(d, obs).reshape(6, 2)
    np.testing.assert_allclose(s[:, 0], 1.0)
    np.testing.assert_allclose(s[:, 1], 0.5)


def test_session_months_are_september_to_december(decl, baseline):
    assert ms.session_span(2016, decl, baseline.start) == (10, 13)
    assert ms.months_needed(decl, (2016, 2019), baseline.start) == 49


def test_priors_come_from_the_sessions_before_the_observations(decl):
    pri = ms.priors(decl, unga.load(2019))
    assert [p.name for p in pri] == list(ms.PARAMETERS)
    assert all(p.high > p.low for p in pri)
    # Data after the anchor do not move them.
    assert pri == ms.priors(decl, unga.load(2015))
