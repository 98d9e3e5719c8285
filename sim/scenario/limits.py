"""Size limits on what users ask the tool to read or compute, defined once.

Each limit is checked up front, before anything is read in full, allocated or run, and the
refusal names the limit (docs/input-errors.md lists them). They are far above any real use and
well below what would exhaust memory or run for days:

- ``MAX_FILE_BYTES``: a TOML or CSV file the tool reads (scenario, base scenario, evidence
  table, experiment, landscape table). The shipped baseline is 15 kB.
- ``MAX_DATA_BYTES``: a data table (UN General Assembly ideal points), a results or
  calibration table whose hash is recorded, and any other file read only to hash it. The
  shipped extract is 45 kB; the full ideal-point series of every session is about 10 MB.
- ``MAX_NAME_CHARS``: a relative file name written inside another file (a measurement
  declaration's ``data.file``, the paths a forecast record names); longer names are no file.
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
- ``MAX_POPULATION``: particles per generation of a calibration (``--population``); each is a
  simulated run held with its summaries, and pyabc keeps every generation in its database.
- ``MAX_GENERATIONS``: generations of a calibration (``--generations``).
- ``WORKERS_PER_CPU``: worker processes of a sweep or calibration (``--workers``) are capped at
  this many per CPU of the machine: more only add memory and switching, never speed.
"""

from __future__ import annotations

from sim.errors import SimInputError

MAX_FILE_BYTES = 1 << 20
MAX_DATA_BYTES = 256 << 20
MAX_NAME_CHARS = 1024
MAX_NESTING = 32
MAX_EVENTS = 10_000
MAX_MONTHS = 10_000
MAX_REPLICATES = 10**8
MAX_RUN_MONTHS = 10**8
MAX_DESIGN_POINTS = 10**7
MAX_SEED = 2**63 - 1
MAX_POPULATION = 1_000_000
MAX_GENERATIONS = 1_000
WORKERS_PER_CPU = 4


def max_workers() -> int:
    """The cap on worker processes on this machine: `WORKERS_PER_CPU` per CPU."""
    import os

    return WORKERS_PER_CPU * (os.cpu_count() or 1)


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


def check_whole(value: object, field: str, low: int, high: int, *, file: str | None = None) -> int:
    """A whole number read from a file (metadata, a record): an integer (or a whole float)
    in [low, high], else one `SimInputError` naming the file and field. What a forged file
    puts there (a string, 1e9, NaN) never reaches the code that allocates or runs.
    """
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        raise SimInputError(
            "expected a whole number", file=file, field=field, found=value,
            allowed=integer_range(low, high),
        )  # fmt: skip
    return check_count(int(value), field, low, high, file=file)


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
