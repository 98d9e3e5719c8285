"""Equilibria of a game with Gambit: subgame perfection, Nash equilibria, logit QRE.

Every solution here is Gambit's (pygambit 16); nothing is solved by hand:

- **Subgame-perfect equilibrium**: the limit of the principal branch of the logit agent
  quantal-response equilibrium as lambda grows (`pygambit.nash.logit_solve` on the tree). The
  limit of agent QRE is a sequential equilibrium (McKelvey and Palfrey 1998), hence subgame
  perfect, and it selects one equilibrium where several exist (the one the noisy play of the
  simulation approaches as noise vanishes).
- **Pure-strategy Nash equilibria** of the strategic form (`pygambit.nash.enumpure_solve`),
  each flagged subgame perfect or not by Gambit's regret at every information set, on or off
  the path (`MixedBehaviorProfile.infoset_regret` on the profile made to tremble, so that
  every information set is reached): a Nash equilibrium held up by a threat that would not be
  carried out (a non-credible threat) has regret off the path.
- **Logit QRE** at the scenario's choice temperature T, lambda = 1 / T
  (`pygambit.qre.logit_solve_lambda`; McKelvey and Palfrey 1995, 1998): the solution concept
  of the simulation's own monthly logit choice, played with foresight over the horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.game.gambit import gbt

TOL = 1e-6  # regret below this counts as none (payoffs are written with 6 decimals)


@dataclass(frozen=True)
class Profile:
    """A behaviour profile: per information set (its label), the probability of each move."""

    probs: dict[str, dict[str, float]]

    def move(self, infoset: str) -> str:
        """The most likely move at an information set."""
        p = self.probs[infoset]
        return max(p, key=p.get)


@dataclass(frozen=True)
class Solution:
    """What Gambit finds: the subgame-perfect equilibrium (logit limit), the pure Nash
    equilibria with their subgame perfection, and the QRE at ``lam``.
    """

    spe: Profile
    nash: tuple[tuple[Profile, bool], ...]  # (profile, subgame perfect)
    qre: Profile
    lam: float


def profile_of(game: Any, behav: Any) -> Profile:
    """A pygambit behaviour profile as plain numbers keyed by information set labels."""
    probs: dict[str, dict[str, float]] = {}
    for player in game.players:
        for infoset in player.infosets:
            probs[infoset.label] = {a.label: float(behav[a]) for a in infoset.actions}
    return Profile(probs)


def subgame_perfect(game: Any, behav: Any, tremble: float = 1e-6) -> bool:
    """Whether no player gains by deviating at any information set, reached or not.

    Gambit's regrets are conditional on reaching an information set and are left undefined
    off the path, so the profile is first made to tremble (every move gets at least
    ``tremble``): then every information set is reached and Gambit's regret at it is the
    loss from the profile's move against the others' (almost unchanged) play. A regret above
    `TOL` times the payoff range is a threat that would not be carried out.
    """
    shaken = game.mixed_behavior_profile(rational=False)
    for player in game.players:
        for infoset in player.infosets:
            k = len(infoset.actions)
            for a in infoset.actions:
                shaken[a] = (1.0 - tremble) * float(behav[a]) + tremble / k
    scale = max(float(game.max_payoff) - float(game.min_payoff), 1e-12)
    return all(
        float(shaken.infoset_regret(infoset)) < 1e3 * TOL * scale
        for player in game.players
        for infoset in player.infosets
    )


def spe(game: Any) -> Profile:
    """The subgame-perfect (sequential) equilibrium at the limit of the logit branch."""
    res = gbt().nash.logit_solve(game, use_strategic=False)
    return profile_of(game, res.equilibria[0])


def nash(game: Any) -> tuple[tuple[Profile, bool], ...]:
    """Every pure-strategy Nash equilibrium, each with whether it is subgame perfect."""
    res = gbt().nash.enumpure_solve(game)
    out = []
    for eq in res.equilibria:
        behav = eq.as_behavior()
        out.append((profile_of(game, behav), subgame_perfect(game, behav)))
    return tuple(out)


def qre(game: Any, lam: float) -> Profile:
    """The logit agent QRE at precision ``lam`` on the principal branch."""
    res = gbt().qre.logit_solve_lambda(game, lam=[lam], use_strategic=False)[0]
    try:
        return profile_of(game, res.profile)
    except ValueError:
        # pygambit 16.7.0 cannot build the profile object of a behaviour QRE ("outside a
        # Game"); the QRE reads by position, in the order of the players' information sets
        # and their actions (tests/test_game.py checks the logit equations at every
        # information set of a scenario's game).
        actions = [a for p in game.players for i in p.infosets for a in i.actions]
        if len(res) != len(actions):
            raise
        flat = {a: float(res[k]) for k, a in enumerate(actions)}
        return Profile(
            {
                i.label: {a.label: flat[a] for a in i.actions}
                for p in game.players
                for i in p.infosets
            }
        )


def solve(game: Any, temperature: float) -> Solution:
    """All of the above at the players' choice temperature (lambda = 1 / T)."""
    lam = 1.0 / temperature
    return Solution(spe=spe(game), nash=nash(game), qre=qre(game, lam), lam=lam)


def path(game: Any, profile: Profile) -> list[tuple[str, str, float]]:
    """The equilibrium path: from the root, each (player label, move, probability) taken by
    the most likely move until an outcome is reached.
    """
    node, out = game.root, []
    while not node.is_terminal:
        infoset = node.infoset
        move = profile.move(infoset.label)
        out.append((infoset.player.label, move, profile.probs[infoset.label][move]))
        node = list(node.children)[[a.label for a in infoset.actions].index(move)]
    return out


def path_probability(game: Any, profile: Profile, infoset: str, move: str) -> float:
    """The probability that play reaches ``infoset`` and takes ``move`` there."""
    total = 0.0

    def walk(node: Any, reach: float) -> None:
        nonlocal total
        if node.is_terminal or reach == 0.0:
            return
        probs = profile.probs[node.infoset.label]
        for action, child in zip(node.infoset.actions, node.children, strict=True):
            p = reach * probs[action.label]
            if node.infoset.label == infoset and action.label == move:
                total += p
            else:
                walk(child, p)

    walk(game.root, 1.0)
    return total


@dataclass(frozen=True)
class Threshold:
    """Where a property of the equilibrium switches along a parameter, by bisection.

    ``value`` is None when the property does not switch between ``low`` and ``high`` (then
    ``at_low`` == ``at_high`` says whether it holds throughout).
    """

    name: str
    low: float
    high: float
    at_low: bool
    at_high: bool
    value: float | None
    steps: int


def threshold(
    holds: Callable[[float], bool], name: str, low: float, high: float, tol: float = 1e-3
) -> Threshold:
    """Bisect [low, high] for the value where ``holds`` switches (assumed to switch once)."""
    a, b = holds(low), holds(high)
    if a == b:
        return Threshold(name, low, high, a, b, None, 2)
    lo, hi, steps = low, high, 2
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        steps += 1
        if holds(mid) == a:
            lo = mid
        else:
            hi = mid
    return Threshold(name, low, high, a, b, 0.5 * (lo + hi), steps)
