"""The Mesa model: one replicate of the same rules, steppable and inspectable.

`AllianceModel` is a `mesa.Model` with one `ActorAgent` per actor and a `DataCollector` that
reports the declared outcomes. It runs the compiled rules of `sim.model.kernel` on one
replicate, the same functions the array engine runs for many, so for the same seed, point and
replicate it produces exactly the trajectory the array engine produces (tested). Each agent
chooses its own action from its row of the logit weights (`kernel.choose`); the model then
applies the joint transition.

Data collection: the DataCollector records month 0 when the model is built and month k after
the k-th step, so row k of the model reporters and the agent rows Mesa files under
``model.steps == k`` both describe month k. Mesa 3.3's ``batch_run`` reads rows 0 to
``model.steps - 1`` only, so the model stays ``running`` for one closing step after its last
month: that step simulates nothing and collects nothing, and makes the last row ``batch_run``
reads the final month.

Randomness: every number the dynamics use comes from the run's counter-based stream
(`sim.rng`), keyed by (seed, point, replicate). Mesa's own generators (`Model.random` and
`Model.rng`) are seeded with the same seed but the dynamics use neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.model import kernel, layout, outcomes, rng, rules
from sim.model.engine import Trajectory, pair_index
from sim.model.params import compile_params
from sim.scenario import BASELINE, Scenario, as_scenario

DEFAULT_SCENARIO = BASELINE


class ActorAgent(mesa.Agent):
    """A state or bloc. Each month it picks an action by logit choice over expected utility."""

    def __init__(self, model: AllianceModel, index: int, actor_id: str, label: str) -> None:
        super().__init__(model)
        self.index = index
        self.actor_id = actor_id
        self.label = label
        self.action_index = -1

    @property
    def action(self) -> str:
        """This month's action id ('' before the first month)."""
        if self.action_index < 0:
            return ""
        return self.model.params.actions[self.index][self.action_index]

    def alignment_with(self, other: str) -> float:
        """Current alignment with another actor."""
        j = self.model.params.actors.index(other)
        return float(self.model.state.alignment[0, self.index, j])

    def step(self) -> None:
        """Choose this month's action from the model's current choice probabilities."""
        i = self.index
        u = float(self.model.choice_uniforms[0, i])
        self.action_index = int(kernel.choose(self.model.choice_weights[0, i], u))


class AllianceModel(mesa.Model):
    """Alignment drift and Russian betrayal among the scenario's actors, one replicate.

    Parameters: ``scenario`` (path or `Scenario`), ``seed``, ``months`` (default the scenario's
    horizon), ``point`` and ``replicate`` (which stream of a sweep to reproduce) and any dotted
    scenario parameter as a keyword, e.g. ``**{"actors.russia.salience.ukraine": 0.9}``, so that
    ``mesa.batch_run`` can vary it.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = DEFAULT_SCENARIO,
        seed: int | None = None,
        months: int | None = None,
        point: int = 0,
        replicate: int = 0,
        **overrides: Any,
    ) -> None:
        if months is not None and (
            isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1
        ):
            raise SimInputError(
                "must be a whole number of months >= 1", field="months", found=months
            )
        if seed is None:  # drawn, and recorded: `seed_value` and the "seed" model reporter
            seed = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(seed=seed)
        self.seed_value = int(seed)
        self.scenario = as_scenario(scenario, overrides)
        self.params = compile_params(self.scenario)
        self.months = self.scenario.months if months is None else int(months)
        self.keys = rng.run_keys(self.seed_value, np.array([point]), np.array([replicate]))
        self._buffers = kernel.start_buffers(self.params, 1)
        self._month = 0
        self._observed: rules.State | None = None
        n = len(self.params.actors)
        self._pairs = pair_index(n)
        self._alignment = [self._pair_values()]
        self._actions: list[np.ndarray] = []
        self._fired: list[np.ndarray] = []
        self._offers: list[np.ndarray] = []
        self.choice_weights = np.zeros((1, n, self.params.valid.shape[1]))
        self.choice_uniforms = np.zeros((1, n))
        for i, actor in enumerate(self.scenario.actors):
            ActorAgent(self, i, actor.id, actor.label)
        self.actor_agents = sorted(self.agents, key=lambda a: a.index)
        self._outcomes = outcomes.declared(self.params)
        self._series = {o.name for o in self._outcomes if o.kind == "series"}
        self._final: pd.DataFrame | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "seed": lambda m: m.seed_value,  # also the seed a seedless model drew
                **{o.name: _reporter(o.name) for o in self._outcomes},
            },
            agent_reporters={"action": "action"},
        )
        # Month 0 now, while model.steps is 0: Mesa files agent rows under model.steps and model
        # rows by position, so both agree that row k is month k.
        self.datacollector.collect(self)

    # --- stepping -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the last month has been simulated."""
        return self._month >= self.months

    def step(self) -> None:
        """Advance one month: regime changes, events, each agent's choice, then the joint
        transition.

        After the last month, one more call only sets ``running`` to False (see the module
        docstring: it lets ``mesa.batch_run`` read the final month's row).
        """
        if self.finished:
            self.running = False
            return
        self.params = p = self.params.at_month(self._month + 1)
        e = len(p.events)
        u = rng.uniforms(self.keys, self._month, e + len(p.actors))
        self._observed = None
        fired, self.choice_weights, _ = kernel.prepare_buffers(
            self._buffers, p, self._month + 1, u[:, :e]
        )
        self._offers.append(self.state.offer_left[0] > 0)
        self.choice_uniforms = u[:, e:]
        for agent in self.actor_agents:
            agent.step()
        actions = np.array([[a.action_index for a in self.actor_agents]], dtype=np.int64)
        kernel.transition_buffers(self._buffers, p, actions)
        self._month += 1
        self._observed = None
        self._alignment.append(self._pair_values())
        self._actions.append(actions[0])
        self._fired.append(fired[0])
        self.datacollector.collect(self)

    # --- observation ----------------------------------------------------------------------

    @property
    def state(self) -> rules.State:
        """The world now (alignment, trust, stakes, policies, deals), one replicate."""
        if self._observed is None:
            self._observed = layout.state_of(self._buffers, self._month, 1)
        return self._observed

    def trajectory(self) -> Trajectory:
        """The months simulated so far, in the array engine's format."""
        n, e, d = len(self.params.actors), len(self.params.events), len(self.params.deals)
        return Trajectory(
            pairs=self._pairs,
            alignment=np.array(self._alignment, dtype=np.float32)[None],
            actions=np.array(self._actions, dtype=np.int8).reshape(1, -1, n),
            fired=np.array(self._fired, dtype=bool).reshape(1, -1, e),
            offers=np.array(self._offers, dtype=bool).reshape(1, -1, d),
            start=self.params.start,
        )

    def run_table(self) -> pd.DataFrame:
        """The run-table row of this replicate over the months simulated so far."""
        return outcomes.run_table(self.trajectory(), self.params)

    def outcome(self, name: str) -> Any:
        """Current value of a declared outcome.

        Series outcomes (``alignment``, a balance's ``<id>_index``) are reported every month;
        scalar outcomes describe a whole run, so they are reported once the last month has been
        simulated (None before), keeping each step cheap. Each name has one meaning: a
        balance's ``<id>`` is its true/false outcome, never its index.
        """
        if name in self._series:
            return float(self._series_now()[name][0, -1])
        if not self.finished:
            return None
        if self._final is None:
            self._final = self.run_table()
        value = self._final[name].iat[0]
        if pd.isna(value):
            return None
        return value.item() if hasattr(value, "item") else value

    def _series_now(self) -> dict[str, np.ndarray]:
        # The declared series outcomes of this month, computed by their kinds from a
        # one-month trajectory of the current alignment.
        n = len(self.params.actors)
        now = Trajectory(
            pairs=self._pairs,
            alignment=self._pair_values()[None, None],
            actions=np.zeros((1, 0, n), dtype=np.int8),
            fired=np.zeros((1, 0, len(self.params.events)), dtype=bool),
            offers=np.zeros((1, 0, len(self.params.deals)), dtype=bool),
            start=self.params.start,
        )
        return outcomes.series_values(now, self.params)

    def _pair_values(self) -> np.ndarray:
        a = self.state.alignment[0]
        return np.array([a[i, j] for i, j in self._pairs])


def _reporter(name: str):
    return lambda model: model.outcome(name)
