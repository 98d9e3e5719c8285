"""Calibration by approximate Bayesian computation (pyabc's ABC-SMC).

Priors are uniform: each scenario parameter over its evidence range, each measurement
parameter over the range `sim.validation.data.measurement.priors` derives from the data before the
observed years. The distance is pyabc's adaptive p-norm (p = 2) on the summary statistics, each
standardised by its median absolute deviation over the generation's simulations. Epsilon is the
median of the previous generation's distances (pyabc's default quantile schedule).

Samplers: ``batch`` (default) simulates a generation's proposals together in one engine call
(`sim.validation.calibration.batch_sampler`), in this process, reproducible for a seed;
``multicore`` is pyabc's `MulticoreEvalParallelSampler` (one model call per particle in worker
processes); a Dask scheduler address uses pyabc's `DaskDistributedSampler`. pyabc reseeds its worker
processes from the operating system, so only the batch sampler's results repeat exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import signals
from sim.errors import SimInputError
from sim.validation.calibration.problem import Problem

SAMPLERS = ("batch", "multicore")


@dataclass(frozen=True)
class Settings:
    """Size and stopping rules of an ABC-SMC run."""

    population: int = 400  # particles per generation
    generations: int = 8  # at most this many generations after the prior's
    min_acceptance_rate: float = 0.02  # stop when a generation accepts fewer than this share
    sampler: str = "batch"
    workers: int = 2  # processes of the multicore sampler
    scheduler: str | None = None  # a Dask scheduler address: use pyabc's Dask sampler
    batch: int = 4000  # largest batch of the batch sampler


@dataclass(frozen=True)
class Calibration:
    """What a calibration produced: the weighted posterior, its diagnostics and timings."""

    problem: Problem
    settings: Settings
    posterior: pd.DataFrame  # one row per particle: parameter columns, then ``weight``
    diagnostics: pd.DataFrame  # per generation: t, epsilon, particles, evaluations, rates, ESS
    seconds: float
    history_db: Path


def prior(problem: Problem):
    """The pyabc prior: independent uniforms over each parameter's bounds."""
    import pyabc

    return pyabc.Distribution(
        **{
            name: pyabc.RV("uniform", float(lo), float(hi - lo))
            for name, lo, hi in zip(problem.names, problem.low, problem.high, strict=True)
        }
    )


def _sampler(problem: Problem, settings: Settings, progress: Callable | None):
    import pyabc

    if settings.scheduler:
        try:
            from distributed import Client

            client = Client(settings.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise SimInputError(
                f"cannot reach the Dask scheduler: {exc}",
                field="--scheduler",
                found=settings.scheduler,
            ) from None
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=8)
    if settings.sampler == "multicore":
        signals.quiet_forks()  # its forked workers leave Ctrl-C to us and die with us
        return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=settings.workers)
    if settings.sampler == "batch":
        from sim.validation.calibration.batch_sampler import BatchSampler

        def inside(values: np.ndarray) -> np.ndarray:
            return np.all((values >= problem.low) & (values <= problem.high), axis=1)

        return BatchSampler(
            problem.simulate_dicts, problem.names, settings.batch, progress, inside=inside
        )
    raise SimInputError(
        "unknown sampler", field="--sampler", found=settings.sampler, allowed=", ".join(SAMPLERS)
    )


def calibrate(
    problem: Problem,
    settings: Settings,
    db: Path,
    progress: Callable[[int, int, int, int], None] | None = None,
) -> Calibration:
    """Run ABC-SMC on ``problem``, storing pyabc's history in the SQLite file ``db``.

    numpy's global generator (which pyabc samples from) is seeded with the problem's seed for
    the run and restored afterwards.
    """
    import pyabc

    t0 = time.perf_counter()
    state = np.random.get_state()
    np.random.seed(problem.seed % 2**32)
    try:
        sampler = _sampler(problem, settings, progress)
        abc = pyabc.ABCSMC(
            models=problem.simulate_one,
            parameter_priors=prior(problem),
            distance_function=pyabc.AdaptivePNormDistance(p=2),
            population_size=settings.population,
            sampler=sampler,
        )
        abc.new(f"sqlite:///{Path(db).resolve()}", problem.observed_statistics())
        history = abc.run(
            max_nr_populations=settings.generations + 1,
            min_acceptance_rate=settings.min_acceptance_rate,
        )
        sampler.stop()
    finally:
        np.random.set_state(state)
    frame, w = history.get_distribution(m=0, t=history.max_t)
    post = frame[list(problem.names)].reset_index(drop=True)
    post["weight"] = np.asarray(w) / np.sum(w)
    return Calibration(
        problem=problem,
        settings=settings,
        posterior=post,
        diagnostics=_diagnostics(history, sampler),
        seconds=time.perf_counter() - t0,
        history_db=Path(db),
    )


def _diagnostics(history, sampler) -> pd.DataFrame:
    """Per generation: epsilon, particles, evaluations, acceptance rate, effective sample size."""
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0].reset_index(drop=True)
    ess = []
    for t in pops.t:
        _, w = history.get_distribution(m=0, t=int(t))
        w = np.asarray(w) / np.sum(w)
        ess.append(float(1.0 / np.sum(w**2)))
    particles = history.get_nr_particles_per_population()
    table = pd.DataFrame(
        {
            "t": pops.t.astype(int),
            "epsilon": pops.epsilon.astype(float),
            "particles": [int(particles[int(t)]) for t in pops.t],
            "evaluations": pops.samples.astype(int),
            "effective_sample_size": ess,
        }
    )
    table["acceptance_rate"] = table.particles / table.evaluations
    simulated = getattr(sampler, "simulated_per_generation", None)
    if simulated and len(simulated) >= len(table) + 1:
        # The batch sampler also simulates the prior sample (t = -1) that calibrates the
        # distance's scales; its later entries line up with the generations.
        table["simulations"] = simulated[1 : len(table) + 1]
    return table
