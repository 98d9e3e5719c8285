"""Arguments and checks that several subcommands share: the scenario, run sizes and seeds."""

from __future__ import annotations

import argparse

from sim.errors import SimInputError

DEFAULT_SCENARIO_HELP = "scenario file (default: the shipped scenarios/baseline.toml)"


def add_scenario_argument(p: argparse.ArgumentParser, default: object) -> None:
    """An optional positional scenario file (``default`` when it is left out)."""
    p.add_argument("scenario", nargs="?", default=default, help=DEFAULT_SCENARIO_HELP)


def add_size_arguments(p: argparse.ArgumentParser, replicates: int, seed: int) -> None:
    """``--replicates/-n``, ``--seed`` and ``--months`` with the command's defaults."""
    p.add_argument(
        "--replicates",
        "-n",
        type=int,
        default=replicates,
        help=f"number of replicates (default {replicates})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=seed,
        help=f"random seed; same seed, same results (default {seed})",
    )
    p.add_argument("--months", type=int, default=None, help="horizon (default: the scenario's)")


def check_counts(replicates: int, months: int | None, seed: int) -> None:
    """Reject impossible sizes with a clear message."""
    if replicates < 1:
        raise SimInputError("must be at least 1", field="--replicates", found=replicates)
    if months is not None and months < 1:
        raise SimInputError("must be at least 1", field="--months", found=months)
    if seed < 0:
        raise SimInputError("must be a non-negative integer", field="--seed", found=seed)


def add_posterior_argument(p: argparse.ArgumentParser) -> None:
    """``--posterior DIR``: draw each replicate's parameters from a calibration's posterior."""
    p.add_argument(
        "--posterior",
        metavar="DIR",
        default=None,
        help="calibration directory (sim calibrate): each replicate draws its calibrated "
        "parameters from the posterior, so intervals include parameter uncertainty",
    )


def load_posterior(path: str | None, scenario_name: str):
    """The posterior of a calibration directory (None without one), checked against the
    scenario: it must have been calibrated on the same scenario.
    """
    if path is None:
        return None
    from sim.validation import posterior

    post = posterior.load(path)
    posterior.check_scenario(post, scenario_name)
    return post
