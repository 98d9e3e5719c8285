"""Arguments and checks that several subcommands share: the scenario, run sizes, seeds, worker
counts and output paths (progress bars: `sim.commands.progress`).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import SimInputError
from sim.scenario.limits import (
    MAX_MONTHS,
    MAX_REPLICATES,
    MAX_SEED,
    WORKERS_PER_CPU,
    check_count,
    check_run_months,
    integer_range,
    max_workers,
)

if TYPE_CHECKING:
    from sim.scenario import Scenario
    from sim.validation.calibration.posterior import Posterior

DEFAULT_SCENARIO_HELP = "scenario file (default: the shipped scenarios/baseline.toml)"

# A whole number as typed: digits, or digits in exponent notation such as 1e6 or 2.5E3.
WHOLE = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+]?\d+)?")


def add_scenario_argument(p: argparse.ArgumentParser, default: object) -> None:
    """An optional positional scenario file (``default`` when it is left out)."""
    p.add_argument("scenario", nargs="?", default=default, help=DEFAULT_SCENARIO_HELP)


def count(low: int, high: int, why: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high] (``1e6`` is accepted as 1000000).

    The range is checked on the exact decimal value before an integer is made, so that
    ``--replicates 1e12`` or a thousand-digit number is refused at once with the limit.
    """
    allowed = integer_range(low, high) + (f" ({why})" if why else "")

    def parse(text: str) -> int:
        if not WHOLE.fullmatch(text):
            raise argparse.ArgumentTypeError(f"expected a whole number (found {text!r})")
        value = Decimal(text)
        if value != value.to_integral_value():
            raise argparse.ArgumentTypeError(f"expected a whole number (found {text!r})")
        if not low <= value <= high:
            limit = "above the limit" if value > high else "below the minimum"
            raise argparse.ArgumentTypeError(f"{limit} (found {text}); allowed: {allowed}")
        return int(value)

    parse.__name__ = "whole number"  # argparse names the type in some messages
    return parse


def finite(text: str) -> float:
    """An argparse type: a finite decimal number (``nan`` and ``inf`` are refused: no
    threshold or share is ever either).
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number (found {text!r})") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number (found {text!r})")
    return value


finite.__name__ = "number"


def add_workers_argument(p: argparse.ArgumentParser, default: int, text: str) -> None:
    """``--workers N``: worker processes, refused above `limits.max_workers` (4 per CPU)."""
    cap = max_workers()
    p.add_argument(
        "--workers",
        type=count(1, cap, f"{WORKERS_PER_CPU} per CPU of this machine"),
        default=default,
        help=f"{text}; at most {cap} here ({WORKERS_PER_CPU} per CPU)",
    )


def add_size_arguments(p: argparse.ArgumentParser, replicates: int, seed: int) -> None:
    """``--replicates/-n``, ``--seed`` and ``--months`` with the command's defaults."""
    p.add_argument(
        "--replicates",
        "-n",
        type=count(1, MAX_REPLICATES),
        default=replicates,
        help=f"number of replicates (default {replicates}; at most {MAX_REPLICATES:,})",
    )
    p.add_argument(
        "--seed",
        type=count(0, MAX_SEED),
        default=seed,
        help=f"random seed; same seed, same results (default {seed})",
    )
    p.add_argument(
        "--months",
        type=count(1, MAX_MONTHS, "the cap on a scenario's horizon"),
        default=None,
        help=f"horizon (default: the scenario's; at most {MAX_MONTHS:,})",
    )


def check_counts(replicates: int, months: int | None, seed: int) -> None:
    """Reject impossible sizes with a clear message naming the limit."""
    check_count(replicates, "--replicates", 1, MAX_REPLICATES)
    if months is not None:
        check_count(months, "--months", 1, MAX_MONTHS, why="the cap on a scenario's horizon")
    check_count(seed, "--seed", 0, MAX_SEED)


def check_run_size(replicates: int, months: int) -> None:
    """Refuse a run too large to hold in memory (``months``: the horizon actually run)."""
    check_run_months(replicates, months, "--replicates")


def check_writable(path: Path, field: str, *, folder: bool) -> None:
    """Refuse up front an output path this command could not write, in one line.

    ``folder`` says whether the command writes a directory at ``path`` or a file. The check
    finds the nearest existing ancestor (which must be a directory) and creates and removes a
    temporary file in it: permission bits, read-only mounts, /proc and /sys all answer that
    test truthfully, also for root, where `os.access` does not.
    """
    path = Path(path)
    if path.is_dir() and not folder:
        raise SimInputError("is a directory, expected a file name", field=field, found=str(path))
    target = path if folder and path.is_dir() else path.parent
    nearest = Path(os.path.abspath(target))
    while not nearest.exists():
        nearest = nearest.parent
    if not nearest.is_dir():
        raise SimInputError(
            f"cannot write there: {nearest} is a file, not a folder", field=field, found=str(path)
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".sim-write-test-", dir=nearest)
    except OSError as exc:
        raise SimInputError(
            f"cannot write in {nearest} ({exc.strerror})", field=field, found=str(path)
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_out_dir(out: Path, force: bool, *, resumes: bool = False) -> None:
    """Refuse, before any work, a results directory ``--out`` this command may not write:
    unwritable, ``.`` (or a folder holding the working folder), or an existing folder that
    ``force`` may not replace (`sim.results.check_target`). ``resumes``: an existing folder is
    resumed without ``force`` (a sweep), and checked when it is opened.

    The command then writes it through `sim.results.writing`, which checks again under the lock.
    """
    from sim import results

    check_writable(out, "--out", folder=True)
    results.refuse_current(out)
    if force or not resumes:
        results.check_target(out, force)


def check_out_file(path: Path | None, force: bool, field: str, *, figure: bool = False) -> None:
    """Refuse, before any work, a file output (``--csv``, ``--figure``, a report) that cannot
    be written or would replace a file without ``force`` (`sim.results.check_file`, the one
    overwrite rule). ``figure``: ``path`` is a stem, written as PNG and SVG.
    """
    if path is None:
        return
    from sim import results

    path = Path(path)
    check_writable(path, field, folder=False)
    if figure:
        from sim.report.figures import FORMATS

        for ext in FORMATS:
            results.check_file(path.with_suffix(f".{ext}"), force, field)
    else:
        results.check_file(path, force, field)


def write_csv(table: Any, path: Path, force: bool, field: str) -> None:
    """Write a table (a DataFrame) as CSV under the one overwrite rule, atomically."""
    from sim import results

    path = Path(path)
    results.check_file(path, force, field)  # again: the file may have appeared meanwhile
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(table.to_csv(index=False), path)


def add_force_argument(p: argparse.ArgumentParser, what: str = "an existing output file") -> None:
    """``--force``: the one flag that lets a command replace what it wrote before."""
    p.add_argument("--force", action="store_true", help=f"replace {what}")


def add_posterior_argument(p: argparse.ArgumentParser) -> None:
    """``--posterior DIR``: draw each replicate's parameters from a calibration's posterior."""
    p.add_argument(
        "--posterior",
        metavar="DIR",
        default=None,
        help="calibration directory (sim calibrate): each replicate draws its calibrated "
        "parameters from the posterior, so intervals include parameter uncertainty",
    )


def load_posterior(path: str | Path | None, scenario: Scenario) -> Posterior | None:
    """The posterior of a calibration directory (None without one), checked against the
    scenario (a `Scenario`): it must have been calibrated on it or on a scenario it extends.
    """
    if path is None:
        return None
    from sim.validation.calibration import posterior

    post = posterior.load(path)
    posterior.check_scenario(post, scenario)
    return post
