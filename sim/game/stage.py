"""The stage a game is played on: a scenario's world at a date, from its own runs.

A game is built at a calendar month of a scenario. The world at that month is not a single
state: runs differ by their random events and choices. `at_date` reruns ``replicates`` runs of
the scenario (the same streams `sim run` uses, `sim.replay`) up to the month before the date
and keeps every run's state at the start of the month (before the month's random events), the
parameters in force (regimes applied) and, for the comparison with the equilibrium, what the
runs chose over the game's horizon. Payoffs are then averages over those runs' states
(`sim.game.payoffs`), so the game is the stage game of the simulation at that date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import replay
from sim.errors import SimInputError
from sim.model import rules
from sim.model.params import Params
from sim.scenario import Scenario, calendar


@dataclass(frozen=True)
class Stage:
    """A scenario's world at the start of ``month`` in ``replicates`` runs, and what the runs
    did next.

    ``state`` holds one row per run; ``params`` are the parameters in force that month.
    ``chosen`` (H, R, N) are the actions the runs chose in months ``month .. month + H - 1``
    (fewer when the scenario ends first); ``offer_open`` and ``in_deal`` (H, R, D) say whether
    each deal's offer was on the table (after the month's events) and whether it was kept, at
    the moment of each of those choices; ``held`` (H, R, N) is the policy each actor held.
    """

    scenario: Scenario
    params: Params
    state: rules.State
    month: int
    date: str
    seed: int
    replicates: int
    chosen: np.ndarray
    offer_open: np.ndarray
    in_deal: np.ndarray
    held: np.ndarray

    def actor(self, actor_id: str) -> int:
        """The index of an actor."""
        return self.params.actors.index(actor_id)

    def action(self, actor_id: str, action_id: str) -> int:
        """The index of one of an actor's actions."""
        return self.params.actions[self.actor(actor_id)].index(action_id)


def month_of(scenario: Scenario, date: str) -> int:
    """The simulated month of ``date`` ("YYYY-MM"), refused unless inside the scenario."""
    try:
        month = calendar.month_of(date, scenario.start)
    except ValueError:
        raise SimInputError(
            "not a month", field="--date", found=date, allowed=calendar.FORMAT
        ) from None
    if not 1 <= month <= scenario.months:
        last = calendar.date_of(scenario.months, scenario.start)
        raise SimInputError(
            "outside the scenario",
            file=scenario.source,
            field="--date",
            found=date,
            allowed=f"{scenario.start} to {last}",
        )
    return month


def at_date(
    scenario: str | Path | Scenario,
    date: str,
    *,
    horizon: int = 12,
    replicates: int = 100,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
) -> Stage:
    """The world of ``scenario`` at the start of ``date`` in ``replicates`` runs (seed
    ``seed``), with what the runs chose over the next ``horizon`` months.
    """
    rp = replay.from_scenario(scenario, overrides, seed=seed, replicates=replicates)
    month = month_of(rp.scenario, date)
    last = min(month + horizon - 1, rp.months)
    reps = np.arange(replicates)
    state = rules.initial_state(rp.params, replicates)
    params = rp.params
    chosen, offer_open, in_deal, held = [], [], [], []
    for step in rp.steps(reps) if last >= 1 else ():
        if step.month > last:
            break
        if step.month == month:
            params = step.params
        if step.month >= month:
            chosen.append(step.chosen)
            offer_open.append(step.state.offer_left > 0)
            in_deal.append(step.state.in_deal)
            held.append(step.state.actions)
        else:
            state = step.after
    return Stage(
        scenario=rp.scenario,
        params=params,
        state=state,
        month=month,
        date=calendar.date_of(month, rp.scenario.start),
        seed=seed,
        replicates=replicates,
        chosen=np.stack(chosen),
        offer_open=np.stack(offer_open),
        in_deal=np.stack(in_deal),
        held=np.stack(held),
    )
