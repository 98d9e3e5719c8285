"""Games built from a scenario: payoffs are the model's utility terms at the date."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.errors import SimInputError
from sim.game import payoffs, stage, trees
from sim.model import rules
from sim.scenario import BASELINE


@pytest.fixture(scope="module")
def st():
    return stage.at_date(BASELINE, "2016-06", horizon=2, replicates=8, seed=3)


def _leaf(tree, *history):
    return next(x for x in tree.terminals() if tuple(m for _, m in x.history) == history)


def _chosen(terms, actions):
    """Mean over runs of each actor's summed utility terms for its action."""
    total = sum(terms[t] for t in rules.TERMS)
    return np.take_along_axis(total, actions[..., None], axis=2)[..., 0].mean(axis=0)


def test_stage_is_the_runs_state_at_the_start_of_the_date(st):
    assert st.month == 7 and st.date == "2016-06"
    assert st.state.month == 6  # the state after month 6's choices: the start of month 7
    assert st.state.alignment.shape[0] == 8
    assert st.chosen.shape[:2] == (2, 8)


def test_deal_payoffs_are_utility_terms_at_the_date_horizon_one(st):
    tree = trees.deal(st, horizon=1, discount=0.9)
    r = trees.roles(st)
    p = st.params
    held = st.state.actions.copy()
    no_offer = _leaf(tree, "no offer", "hedge")
    acts = held.copy()
    for i, seq in no_offer.plan.moves.items():
        acts[:, i] = seq[0]
    expected = _chosen(rules.utility_terms(st.state, p), acts)
    np.testing.assert_allclose(no_offer.payoff.total, expected, atol=1e-12)
    # the offer raises the deal's issue stake by the scenario's offer and puts it on the table
    traded = _leaf(tree, "offer", "trade", "hedge", "honour")
    stakes = st.state.stakes.copy()
    stakes[:, r.issue] += r.size
    left = st.state.offer_left.copy()
    left[:, r.deal] = np.maximum(left[:, r.deal], 1)
    offered = replace(st.state, stakes=stakes, offer_left=left)
    acts = held.copy()
    for i, seq in traded.plan.moves.items():
        acts[:, i] = seq[0]
    assert acts[0, r.russia] == r.trade
    expected = _chosen(rules.utility_terms(offered, p), acts)
    np.testing.assert_allclose(traded.payoff.total, expected, atol=1e-12)
    assert r.size == 1.0  # the baseline's western_offer event adds 1.0 to the Ukraine stake


def test_payoffs_over_two_months_follow_the_models_transition(st):
    tree = trees.nuclear(st, horizon=2, discount=0.8)
    leaf = _leaf(tree, "engage_iran", "seek_us")
    acts = st.state.actions.copy()
    for i, seq in leaf.plan.moves.items():
        acts[:, i] = seq[0]
    first = _chosen(rules.utility_terms(st.state, st.params), acts)
    nxt, _ = rules.transition(st.state, st.params, acts)
    second = _chosen(rules.utility_terms(nxt, st.params), acts)
    np.testing.assert_allclose(leaf.payoff.total, (first + 0.8 * second) / 1.8, atol=1e-12)
    # the terms add up to the total
    np.testing.assert_allclose(leaf.payoff.terms.sum(axis=1), leaf.payoff.total)


def test_renege_withdraws_the_offer_and_returns_the_west_to_its_other_policy(st):
    tree = trees.deal(st, horizon=3, discount=0.95)
    honour = _leaf(tree, "offer", "trade", "hedge", "honour")
    renege = _leaf(tree, "offer", "trade", "hedge", "renege")
    r = trees.roles(st)
    assert honour.plan.moves[r.west] == (r.offer,)
    assert renege.plan.moves[r.west][0] == r.offer and renege.plan.moves[r.west][1] != r.offer
    assert renege.plan.withdraw and not honour.plan.withdraw
    # Russia, bound by the deal, is worse off when the concessions are withdrawn
    assert renege.payoff.total[r.russia] < honour.payoff.total[r.russia]


def test_iran_cannot_tell_a_refused_offer_from_no_offer(st):
    tree = trees.deal(st, horizon=1, discount=0.95)
    refused = tree.root.children[0].children[1]
    none = tree.root.children[1]
    assert refused.infoset == none.infoset == "I:no-trade"
    assert tree.root.children[0].children[0].infoset == "I:trade"


def test_weights_are_normalised_discount_factors():
    w = payoffs.weights(3, 0.5)
    np.testing.assert_allclose(w, np.array([1, 0.5, 0.25]) / 1.75)


def test_date_outside_the_scenario_is_refused():
    with pytest.raises(SimInputError, match="outside the scenario"):
        stage.at_date(BASELINE, "2014-01", replicates=2)
    with pytest.raises(SimInputError, match="not a month"):
        stage.at_date(BASELINE, "June 2016", replicates=2)


def test_unknown_game_is_refused(st):
    with pytest.raises(SimInputError, match="unknown game"):
        trees.build(st, "chicken")


def test_deal_game_is_refused_when_the_offer_is_switched_off():
    st = stage.at_date("scenarios/history_2015_2025.toml", "2022-03", horizon=1, replicates=2)
    with pytest.raises(SimInputError, match="switched off"):
        trees.deal(st, horizon=1, discount=0.95)


def test_qre_of_a_scenario_game_solves_the_logit_equations_at_every_infoset(st):
    gbt = pytest.importorskip("pygambit")
    from sim.game import gambit, solve

    tree = trees.deal(st, horizon=2, discount=0.95)
    game = gambit.to_gambit(tree)
    lam = 1.0 / tree.temperature
    q = solve.qre(game, lam)
    prof = game.mixed_behavior_profile(rational=False)
    for player in game.players:
        for infoset in player.infosets:
            for a in infoset.actions:
                prof[a] = q.probs[infoset.label][a.label]
    for player in game.players:
        for infoset in player.infosets:
            values = np.array([float(prof.action_value(a)) for a in infoset.actions])
            logit = np.exp(lam * (values - values.max()))
            expected = logit / logit.sum()
            got = [q.probs[infoset.label][a.label] for a in infoset.actions]
            np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=infoset.label)
    assert isinstance(gbt.__version__, str)
