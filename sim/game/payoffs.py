"""Payoffs of a game's outcomes from the model's own utility terms.

An outcome of a game (a terminal history: who did what) is played out in the model: from the
stage's state (`sim.game.stage`), every actor holds the action the history gives it month by
month, the model's own transition (`sim.model.rules.transition`: stances, deals, trust,
alignment drift, stakes) moves the world, and each month every actor's utility of the action it
holds is the sum of `sim.model.rules.utility_terms`, the terms its logit choice weighs in the
simulation. An actor's payoff is the discounted mean of those monthly utilities over the
horizon,

    payoff_i = sum_h delta^h u_i(h) / sum_h delta^h,     h = 0 .. horizon - 1,

averaged over the stage's runs. The mean (not the sum) keeps payoffs in the units of one
month's utility, so the scenario's choice temperature T means the same thing in the game's
logit QRE (lambda = 1 / T) as in the simulation's monthly logit choice.

What the rollout leaves out, on purpose: random events (the game is the choice, not the
weather) and regime changes after the date (the parameters in force at the date hold over the
horizon). Actors that are not players hold the policy they held at the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from sim.game.stage import Stage
from sim.model import rules


@dataclass(frozen=True)
class Plan:
    """What each player does in one outcome of a game, month by month.

    ``moves`` maps an actor index to its action index in each month of the horizon (a tuple as
    long as the horizon; the last entry repeats when it is shorter). ``offer`` opens deal
    ``deal`` in the first month and adds ``offer`` to the stake of issue ``issue`` (as the
    model's offer events do); ``withdraw`` takes the offer's stake back from the second month
    on (the concessions are not delivered).
    """

    moves: Mapping[int, tuple[int, ...]]
    offer: float = 0.0
    deal: int = -1
    issue: int = -1
    withdraw: bool = False


@dataclass(frozen=True)
class Payoff:
    """The payoff of every actor (N,) and its split into `rules.TERMS` (N, X), both the
    discounted monthly mean over the horizon, averaged over runs.
    """

    total: np.ndarray
    terms: np.ndarray


def weights(horizon: int, discount: float) -> np.ndarray:
    """The normalised discount weights delta^h / sum delta^h of the horizon's months."""
    w = discount ** np.arange(horizon, dtype=np.float64)
    return w / w.sum()


def rollout(stage: Stage, plan: Plan, horizon: int, discount: float) -> Payoff:
    """Play ``plan`` out in the model from the stage's state and score it."""
    params, state = stage.params, stage.state
    r, n = state.actions.shape
    held = np.where(state.actions >= 0, state.actions, 0)
    w = weights(horizon, discount)
    terms = np.zeros((n, len(rules.TERMS)))
    bump = 0.0
    for h in range(horizon):
        if h == 0 and plan.deal >= 0:
            stakes = state.stakes.copy()
            stakes[:, plan.issue] += plan.offer
            offer_left = state.offer_left.copy()
            offer_left[:, plan.deal] = np.maximum(offer_left[:, plan.deal], 1)
            state = replace(state, stakes=stakes, offer_left=offer_left)
            bump = plan.offer
        elif h == 1 and plan.withdraw and bump:
            stakes = state.stakes.copy()
            # what is left of the offer after a month of the issue's persistence
            stakes[:, plan.issue] -= bump * params.persistence[0, plan.issue]
            state = replace(state, stakes=np.maximum(stakes, 0.0))
        actions = held.copy()
        for i, seq in plan.moves.items():
            actions[:, i] = seq[min(h, len(seq) - 1)]
        ok = np.take_along_axis(rules.allowed(state, params), actions[..., None], axis=2)
        if not ok.all():
            raise ValueError(f"the plan chooses an action the model does not allow in month {h}")
        named = rules.utility_terms(state, params)
        chosen = np.stack(
            [np.take_along_axis(named[t], actions[..., None], axis=2)[..., 0] for t in rules.TERMS],
            axis=-1,
        )  # (R, N, X)
        terms += w[h] * chosen.mean(axis=0)
        state, _ = rules.transition(state, params, actions)
        held = actions
    return Payoff(total=terms.sum(axis=1), terms=terms)
