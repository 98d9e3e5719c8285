"""Size limits on what users ask the tool to read or compute, defined once.

Each limit is checked up front, before anything is read in full, allocated or run, and the
refusal names the limit (docs/input-errors.md lists them). They are far above any real use and
well below what would exhaust memory or run for days:

- ``MAX_FILE_BYTES``: a TOML or CSV file the tool reads (scenario, base scenario, evidence
  table, experiment, landscape table). The shipped baseline is 15 kB.
- ``MAX_NESTING``: levels of tables and arrays in one TOML document. The deepest scenario field
  (``actors.iran.actions.hedge.stance.russia``) has 6; deeper documents would only exhaust the
  parser's recursion.
- ``MAX_EVENTS``: events in one scenario. Every event adds a random draw per run and month.
- ``MAX_MONTHS``: a run's horizon, the same cap as the scenario's own ``scenario.months``.
- ``MAX_REPLICATES``: replicates of a run or of each design point.
- ``MAX_RUN_MONTHS``: replicates x months held in memory at once (``sim run``, ``sim validate``,
  one design point of a sweep, since a sweep chunk holds whole points): at most about 70 bytes
  each, so at most about 7 GB. ``sim run`` writes its trajectories a block of replicates at a
  time and keeps only the fan chart's series and the run table: 8.8 bytes per replicate-month
  measured between 100,000 and 200,000 replicates of 120 months (benchmarks/bench_scale.py).
- ``MAX_DESIGN_POINTS``: points of a sweep design (grid levels ** parameters, lhs points,
  Saltelli N (D + 2) or N (2 D + 2), Morris N (D + 1)).
- ``MAX_SEED``: a seed, so that it fits the 64-bit integer columns of results tables.
"""

from __future__ import annotations

from sim.errors import SimInputError

MAX_FILE_BYTES = 1 << 20
MAX_NESTING = 32
MAX_EVENTS = 10_000
MAX_MONTHS = 10_000
MAX_REPLICATES = 10**8
MAX_RUN_MONTHS = 10**8
MAX_DESIGN_POINTS = 10**7
MAX_SEED = 2**63 - 1


def integer_range(low: int, high: int) -> str:
    """The allowed integers in words, with thousands separators for the large limits."""
    return f"an integer in [{low:,}, {high:,}]"


def check_count(
    value: int, field: str, low: int, high: int, *, file: str | None = None, why: str = ""
) -> int:
    """``value`` if ``low <= value <= high``, else one `SimInputError` naming the limit."""
    if low <= value <= high:
        return value
    allowed = integer_range(low, high) + (f" ({why})" if why else "")
    message = "above the limit" if value > high else "below the minimum"
    raise SimInputError(message, file=file, field=field, found=value, allowed=allowed)


def check_run_months(replicates: int, months: int, field: str, file: str | None = None) -> None:
    """Refuse more replicates x months than a command holds in memory at once."""
    if replicates * months > MAX_RUN_MONTHS:
        raise SimInputError(
            f"{replicates:,} replicates x {months:,} months is above the limit of "
            f"{MAX_RUN_MONTHS:,} run-months held in memory at once",
            file=file,
            field=field,
            allowed="fewer replicates or months (a sweep splits larger studies into points)",
        )
