"""UN General Assembly ideal points: the measured series that calibration fits the model to.

The shipped extract (``data/unga/ideal_points_2000_2019.csv``; source and citation in
``data/unga/README.md``) holds one row per state and Assembly session. `load` checks the file
(columns, types, one row per state and session, quantiles in order) and applies a **cutoff**:
rows of sessions that opened after ``until`` are dropped while the file is parsed, before any
other code sees them, so nothing that calibrates can read data from after its cutoff. A bad or
truncated file raises `SimInputError` (one line naming the file, the field and the row).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import SimInputError
from sim.results import file_sha256
from sim.scenario import files, shipped
from sim.scenario.limits import MAX_DATA_BYTES

SHIPPED = ("data", "unga", "ideal_points_2000_2019.csv")
COLUMNS = (
    "iso3c",
    "country",
    "session",
    "year",
    "votes",
    "ideal_point",
    "q05",
    "q50",
    "q95",
    "agree_us",
    "agree_russia",
    "agree_china",
    "agree_israel",
)
INTEGERS = ("session", "year", "votes")
FLOATS = ("ideal_point", "q05", "q50", "q95")
SHARES = ("agree_us", "agree_russia", "agree_china", "agree_israel")
FIRST_SESSION_YEAR = 1945  # session s opened in year 1945 + s


@dataclass(frozen=True)
class Data:
    """Ideal points up to a cutoff: the table, the file it came from and the file's hash."""

    table: pd.DataFrame  # one row per state and session, sessions up to ``until``
    source: str
    sha256: str
    until: int

    @property
    def years(self) -> tuple[int, ...]:
        """Session years present, in order."""
        return tuple(sorted(int(y) for y in self.table.year.unique()))

    def points(self, states: tuple[str, ...]) -> pd.DataFrame:
        """Yearly mean ideal point of a group of states and its measurement standard deviation.

        Returns a frame indexed by year with ``ideal_point`` (the mean of the states' estimates)
        and ``sd`` (the standard deviation of that mean from each estimate's 90% interval,
        taken as normal and independent across states). Years missing a state are dropped.
        """
        rows = self.table[self.table.iso3c.isin(states)]
        missing = set(states) - set(rows.iso3c)
        if missing:
            raise SimInputError(
                "state not in the data",
                file=self.source,
                field="iso3c",
                found=sorted(missing)[0],
                allowed=", ".join(sorted(self.table.iso3c.unique())),
            )
        sd = (rows.q95 - rows.q05) / (2 * 1.6448536269514722)
        g = rows.assign(var=sd**2).groupby("year")
        n = g.size()
        out = pd.DataFrame({"ideal_point": g.ideal_point.mean(), "sd": (g["var"].sum() ** 0.5) / n})
        return out[n == len(states)]


def default_path() -> Path:
    """The shipped data file (inside an installed wheel or the checkout)."""
    return shipped.path(*SHIPPED)


def load(until: int, path: str | Path | None = None) -> Data:
    """Read and check the ideal points of sessions that opened in ``until`` or before.

    Rows after the cutoff are discarded as the file is read (they are never converted or
    checked beyond their year), so no caller can see them.
    """
    if isinstance(until, bool) or not isinstance(until, int):
        raise SimInputError("expected a year", field="until", found=until)
    path = Path(path) if path is not None else default_path()
    records = list(_rows(path, until))
    if not records:
        raise SimInputError(
            "no sessions at or before the cutoff", file=str(path), field="year", found=until
        )
    table = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    dup = table.duplicated(["iso3c", "session"])
    if dup.any():
        row = table[dup].iloc[0]
        raise SimInputError(
            "state and session listed twice",
            file=str(path),
            field="session",
            found=f"{row.iso3c} {row.session}",
        )
    table = table.sort_values(["iso3c", "year"], ignore_index=True)
    return Data(table=table, source=str(path), sha256=file_sha256(path), until=until)


def _rows(path: Path, until: int) -> Iterator[dict]:
    """Checked records of the rows up to the cutoff."""
    # The one bounded reader: a regular .csv file (never a device or pipe), of a data file's
    # size at most, UTF-8.
    text = files.read_text(path, (".csv",), MAX_DATA_BYTES)
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        # Never quote what was found: a wrong path may name a secret (/etc/shadow, a .env).
        raise SimInputError(
            "unexpected header (not the ideal-point table)",
            file=str(path),
            allowed=",".join(COLUMNS),
        )
    try:
        yield from _checked(reader, path, until)
    except csv.Error as exc:
        raise SimInputError(f"not a valid CSV file ({exc})", file=str(path)) from None


def _checked(reader: Iterator[list[str]], path: Path, until: int) -> Iterator[dict]:
    for line, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) != len(COLUMNS):
            raise SimInputError(
                f"row {line}: expected {len(COLUMNS)} fields (truncated file?)",
                file=str(path),
                found=len(cells),
            )
        raw = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
        year = _number(raw, "year", path, line, integer=True)
        if year > until:
            continue  # the cutoff: later sessions are never parsed further
        yield _record(raw, year, path, line)


def _record(raw: dict[str, str], year: int, path: Path, line: int) -> dict:
    rec: dict = {"iso3c": raw["iso3c"], "country": raw["country"], "year": year}
    if not rec["iso3c"]:
        raise SimInputError(f"row {line}: empty state code", file=str(path), field="iso3c")
    for name in INTEGERS[:1] + INTEGERS[2:]:
        rec[name] = _number(raw, name, path, line, integer=True)
    if rec["session"] + FIRST_SESSION_YEAR != year:
        raise SimInputError(
            f"row {line}: session and year disagree (year = 1945 + session)",
            file=str(path),
            field="session",
            found=rec["session"],
        )
    for name in FLOATS:
        rec[name] = _number(raw, name, path, line)
    if not rec["q05"] <= rec["q50"] <= rec["q95"]:
        raise SimInputError(
            f"row {line}: quantiles out of order (q05 <= q50 <= q95)", file=str(path), field="q05"
        )
    for name in SHARES:
        value = _number(raw, name, path, line, empty_ok=True)
        if not math.isnan(value) and not 0.0 <= value <= 1.0:
            raise SimInputError(
                f"row {line}: a share must lie in [0, 1]", file=str(path), field=name, found=value
            )
        rec[name] = value
    return rec


def _number(
    raw: dict[str, str],
    name: str,
    path: Path,
    line: int,
    *,
    integer: bool = False,
    empty_ok: bool = False,
) -> float:
    text = raw[name]
    if text == "" and empty_ok:
        return math.nan
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SimInputError(
            f"row {line}: expected {kind}", file=str(path), field=name, found=text
        ) from None
    if not integer and not math.isfinite(value):
        raise SimInputError(
            f"row {line}: expected a finite number", file=str(path), field=name, found=text
        )
    return value
