import numpy as np
import pytest

from sim.model import rules
from sim.model.params import compile_params


@pytest.fixture(scope="module")
def params(baseline):
    return compile_params(baseline)


def test_trust_level_is_beta_mean():
    assert rules.trust_level(np.array(4.0), np.array(9.0)) == pytest.approx(5 / 15)
    assert rules.trust_level(np.array(0.0), np.array(0.0)) == pytest.approx(0.5)


def test_choice_probabilities_sum_to_one_and_skip_missing_actions(params):
    state = rules.initial_state(params, 3)
    probs = rules.choice_probabilities(rules.expected_utility(state, params), params.temp)
    np.testing.assert_allclose(probs.sum(-1), 1.0)
    assert (probs[:, ~params.valid] == 0).all()


def test_logit_prefers_higher_utility():
    eu = np.array([[[0.0, 1.0, -1.0]]])
    p = rules.choice_probabilities(eu, np.array([[0.5]]))
    assert p[0, 0, 1] > p[0, 0, 0] > p[0, 0, 2]
    assert p[0, 0, 1] / p[0, 0, 0] == pytest.approx(np.exp(2.0))


def test_choose_inverse_cdf():
    probs = np.array([[[0.2, 0.5, 0.3]]])
    picks = [
        rules.choose(probs, np.array([[u]]))[0, 0] for u in (0.0, 0.19, 0.21, 0.69, 0.71, 0.999)
    ]
    assert picks == [0, 0, 1, 1, 2, 2]


def test_structural_balance_enemy_of_enemy():
    a = np.array([[[1.0, 0.0, -1.0], [0.0, 1.0, -1.0], [-1.0, -1.0, 1.0]]])
    b = rules.structural_balance(a)
    assert b[0, 0, 1] == pytest.approx(1.0)  # shared enemy pulls 0 and 1 together
    assert b[0, 0, 2] == pytest.approx(0.0)


def test_interest_overlap_identical_positions_is_one(params):
    o = rules.interest_overlap(params, np.ones((1, len(params.issues))))
    assert o[0, 0, 0] == pytest.approx(1.0)
    assert -1 <= o.min() and o.max() <= 1
    np.testing.assert_allclose(o, np.swapaxes(o, 1, 2))


def test_betrayal_refreshes_victims_distrust(params):
    state = rules.initial_state(params, 2)
    b, action, v = params.betrayal
    actions = np.zeros((2, len(params.actors)), dtype=np.int64)
    actions[1, b] = action
    nxt, taken = rules.transition(state, params, actions)
    assert taken[:, 0].tolist() == [False, True]
    assert nxt.unfavourable[1, v, b] > nxt.unfavourable[0, v, b] + params.deal_shock[0, 0] - 1e-9
    # The shock comes once, when the deal is taken, not every month it is kept.
    again, taken2 = rules.transition(nxt, params, actions)
    assert taken2[:, 0].tolist() == [False, False]
    assert again.unfavourable[1, v, b] < nxt.unfavourable[1, v, b] + 1.0


def test_alignment_stays_bounded_and_symmetric(params):
    state = rules.initial_state(params, 50)
    u_rng = np.random.default_rng(0)
    for _ in range(60):
        u = u_rng.random((50, len(params.events) + len(params.actors)))
        state, _, _ = rules.step(state, params, u)
    a = state.alignment
    assert np.isfinite(a).all() and a.min() >= -1 and a.max() <= 1
    np.testing.assert_allclose(a, np.swapaxes(a, 1, 2))
    np.testing.assert_allclose(np.diagonal(a, axis1=1, axis2=2), 1.0)


def test_crisis_raises_the_cost_of_backing_iran(params):
    """C12: a crisis in Western ties makes backing Iran less attractive to Russia (by weights)."""
    state = rules.initial_state(params, 1)
    russia = params.actors.index("russia")
    calm = rules.expected_utility(state, params)[0, russia]
    crisis = params.events.index("unsc_crisis")
    fired = np.zeros((1, len(params.events)), dtype=bool)
    fired[0, crisis] = True
    tense = rules.expected_utility(rules.apply_events(state, params, fired), params)[0, russia]
    back = params.actions[russia].index("back_iran")
    assert tense[back] < calm[back]


def test_policy_bias_moves_choice(baseline):
    """A declared policy commitment (bias) makes its action the usual choice."""
    from sim import api

    from .conftest import SCENARIOS

    thaw = api.simulate(SCENARIOS / "us_iran_thaw.toml", replicates=50, seed=2, months=24)
    base = api.simulate(baseline, replicates=50, seed=2, months=24)
    us = "action__united_states"
    share = lambda res: (res.series[res.series.month > 0][us] == "engage_iran").mean()  # noqa: E731
    assert share(thaw) > 0.9 > 0.1 > share(base)


def test_cost_of_dependence_is_convex_in_commitment(baseline):
    """With relation weights off, EU = issue gains - w_autonomy * sum_j max(stance, 0)^2."""
    off = {f"actors.iran.weights.{w}": 0.0 for w in ("alignment", "reciprocity", "trust")}
    off["actors.iran.inertia"] = 0.0

    def iran_eu(overrides):
        p = compile_params(baseline.with_overrides({**off, **overrides}))
        i = p.actors.index("iran")
        return p, i, rules.expected_utility(rules.initial_state(p, 1), p)[0, i]

    p, i, eu = iran_eu({})
    n_actions = len(p.actions[i])
    issues = (p.sal[0, i] * p.pos[0, i] * p.effect[0, i] * p.stake_base[0]).sum(axis=-1)
    commitment = np.maximum(p.stance[0, i], 0.0)
    expected = issues - 0.6 * (commitment**2).sum(axis=-1) + p.bias[0, i]
    np.testing.assert_allclose(eu[:n_actions], expected[:n_actions])
    # Doubling hedging's commitment to Russia (0.4 -> 0.8) costs 0.6 * (0.64 - 0.16).
    hedge = p.actions[i].index("hedge")
    _, _, eu2 = iran_eu({"actors.iran.actions.hedge.stance.russia": 0.8})
    assert eu[hedge] - eu2[hedge] == pytest.approx(0.6 * (0.8**2 - 0.4**2))
