"""A pyabc sampler that simulates a whole batch of proposed particles in one engine call.

pyabc's own samplers call the model once per particle, so each particle pays the engine's fixed
cost per month (about 10 ms for a 4-year run) however little work it holds. Within a
generation, pyabc's proposals do not depend on one another: the proposal distribution is fixed
for the generation. So this sampler draws a batch of proposals with pyabc's own
`generate_valid_proposal`, simulates all of them at once (one row per particle, `Params.assign`),
then lets pyabc's `evaluate_proposal` compute each particle's distance, acceptance and weight
from the precomputed summary statistics. Particles are taken in proposal order up to the n-th
acceptance (no bias toward any batch), and everything runs in this process from the global
numpy generator pyabc uses plus counter-based simulation streams, so a seed fixes the result.

It relies on the shape of the function pyabc passes to samplers (a ``functools.partial`` of
``_simulate_one`` or ``_simulate_one_from_prior`` in pyabc 0.13); anything else is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyabc
from pyabc.inference_util import inference_util as iu
from pyabc.parameters import Parameter
from pyabc.population import Particle
from pyabc.sampler import Sampler

# Simulates a batch: (B, D) parameter values and (B,) evaluation ids -> one summary dict each.
BatchSimulator = Callable[[np.ndarray, np.ndarray], list[dict[str, float]]]


class Precomputed(pyabc.Model):
    """A pyabc model whose one "simulation" returns summary statistics computed beforehand."""

    def __init__(self, sum_stat: dict[str, float]):
        super().__init__(name="precomputed")
        self._sum_stat = sum_stat

    def sample(self, pars: Any) -> dict[str, float]:  # noqa: ARG002 - already simulated
        """The precomputed summary statistics."""
        return self._sum_stat


class BatchSampler(Sampler):
    """Sample pyabc generations in batches through one vectorised simulator.

    ``simulate(theta, ids)`` gets a (B, D) array of parameter values (columns in ``names``
    order) and B evaluation ids (0, 1, 2, ... over the whole calibration, so each evaluation
    has its own random stream) and returns B summary dicts. ``batch`` bounds a batch's size;
    ``progress(t, accepted, n, evaluated)`` is called after every batch.
    ``inside(values)`` tells which (B, D) rows have positive prior density; with it (and one
    model), a batch's proposals are drawn at once from the transition kernel and those outside
    the prior dropped, which is the rejection `generate_valid_proposal` does one at a time.
    """

    def __init__(
        self,
        simulate: BatchSimulator,
        names: tuple[str, ...],
        batch: int = 2000,
        progress: Callable[[int, int, int, int], None] | None = None,
        inside: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        super().__init__()
        self.inside = inside
        self.simulate = simulate
        self.names = names
        self.batch = int(batch)
        self.progress = progress
        self.evaluations = 0  # ids handed out so far (all simulations, used or not)
        self.simulated_per_generation: list[int] = []

    def _size(self, missing: int, rate: float | None) -> int:
        """How many proposals to simulate next for ``missing`` more acceptances."""
        guess = missing if rate is None else int(np.ceil(1.2 * missing / max(rate, 1e-3)))
        return int(min(self.batch, max(guess, 16)))

    def _simulate(self, thetas: list[Any]) -> list[dict[str, float]]:
        values = np.array([[float(th[n]) for n in self.names] for th in thetas])
        ids = np.arange(self.evaluations, self.evaluations + len(thetas), dtype=np.int64)
        self.evaluations += len(thetas)
        return self.simulate(values, ids)

    def sample_until_n_accepted(
        self,
        n,
        simulate_one,
        t,
        *,
        max_eval=np.inf,
        all_accepted=False,  # noqa: ARG002 - batches need no scheduling hint
        ana_vars=None,  # noqa: ARG002
    ):
        """Draw, simulate and evaluate batches until ``n`` particles are accepted."""
        func = getattr(simulate_one, "func", None)
        kw = getattr(simulate_one, "keywords", None)
        if func is iu._simulate_one_from_prior:
            sample = self._from_prior(n, kw)
        elif func is iu._simulate_one and kw.get("evaluate", True):
            sample = self._generation(n, kw, max_eval)
        else:
            raise TypeError("BatchSampler needs pyabc 0.13's simulate_one; use another sampler")
        return sample

    def _from_prior(self, n: int, kw: dict[str, Any]):
        sample = self._create_empty_sample()
        proposals = []
        for _ in range(n):
            m = int(kw["model_prior"].rvs())
            proposals.append((m, kw["parameter_priors"][m].rvs()))
        stats = self._simulate([theta for _, theta in proposals])
        for (m, theta), s in zip(proposals, stats, strict=True):
            sample.append(
                Particle(
                    m=m,
                    parameter=theta,
                    weight=1.0,
                    sum_stat=kw["summary_statistics"](s),
                    distance=np.inf,
                    accepted=True,
                    proposal_id=0,
                    preliminary=False,
                )
            )
        self.nr_evaluations_ = n
        self.simulated_per_generation.append(n)
        if self.progress:
            self.progress(-1, n, n, n)
        return sample

    def _propose(self, size: int, kw: dict[str, Any]) -> list[tuple[int, Any]]:
        """``size`` proposals (model index, parameter) for this generation."""
        if self.inside is not None and len(kw["m"]) == 1 and kw["t"] > 0:
            m = int(kw["m"][0])
            out: list[tuple[int, Any]] = []
            while len(out) < size:
                draws = kw["transitions"][m].rvs(size=size)
                values = draws[list(self.names)].to_numpy(dtype=float)
                for row in values[self.inside(values)][: size - len(out)]:
                    out.append((m, Parameter(dict(zip(self.names, map(float, row), strict=True)))))
            return out
        return [
            iu.generate_valid_proposal(
                t=kw["t"],
                m=kw["m"],
                p=kw["p"],
                model_prior=kw["model_prior"],
                parameter_priors=kw["parameter_priors"],
                model_perturbation_kernel=kw["model_perturbation_kernel"],
                transitions=kw["transitions"],
            )
            for _ in range(size)
        ]

    def _generation(self, n: int, kw: dict[str, Any], max_eval: float):
        sample = self._create_empty_sample()
        accepted = evaluated = simulated = 0
        rate: float | None = None
        while accepted < n and evaluated < max_eval:
            size = self._size(n - accepted, rate)
            proposals = self._propose(size, kw)
            stats = self._simulate([theta for _, theta in proposals])
            simulated += size
            for (m, theta), s in zip(proposals, stats, strict=True):
                models = [None] * len(kw["models"])
                models[m] = Precomputed(s)
                particle = iu.evaluate_proposal(
                    m,
                    theta,
                    t=kw["t"],
                    models=models,
                    summary_statistics=kw["summary_statistics"],
                    distance_function=kw["distance_function"],
                    eps=kw["eps"],
                    acceptor=kw["acceptor"],
                    x_0=kw["x_0"],
                    weight_function=kw["weight_function"],
                    proposal_id=kw["proposal_id"],
                )
                sample.append(particle)
                evaluated += 1
                accepted += bool(particle.accepted)
                if accepted >= n or evaluated >= max_eval:
                    break
            rate = max(accepted, 1) / evaluated
            if self.progress:
                self.progress(kw["t"], accepted, n, evaluated)
        self.nr_evaluations_ = evaluated
        self.simulated_per_generation.append(simulated)
        if accepted < n:
            sample.ok = False
        return sample
