"""The forecast ledger: an append-only Markdown table of sealed records and their SHA-256.

A sealed forecast record (`sim.validation.forecast.forecast`) is a JSON file; sealing appends
one row ``| sealed (UTC) | record | sha256 |`` to ``forecasts/LEDGER.md``. Committed to git, the
ledger proves a record existed, unchanged, before the answer was known: a record altered
after sealing no longer matches its row.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sim.errors import SimInputError
from sim.results import file_sha256, write_text
from sim.scenario import files

HEADER = """# Forecast ledger

Sealed forecast records, one row each: when it was sealed (UTC), the record file (relative to
this ledger) and the SHA-256 of its bytes. Rows are only ever appended. `sim forecast verify
RECORD` checks a record against its row and re-runs it.

| sealed (UTC) | record | sha256 |
|---|---|---|
"""
_ROW = re.compile(
    r"^\|\s*(?P<when>[^|]+?)\s*\|\s*(?P<record>[^|]+?)\s*\|\s*(?P<sha>[0-9a-f]{64})\s*\|\s*$"
)


@dataclass(frozen=True)
class Row:
    """One sealed record in the ledger."""

    sealed: str
    record: str  # path relative to the ledger's folder
    sha256: str


def relative(record: str | Path, ledger: str | Path) -> str:
    """The record's path relative to the ledger's folder, with forward slashes."""
    rel = os.path.relpath(Path(record).resolve(), Path(ledger).resolve().parent)
    return Path(rel).as_posix()


def rows(ledger: str | Path) -> list[Row]:
    """Every row of a ledger (none if it does not exist)."""
    path = Path(ledger)
    if not path.exists():
        return []
    out = []
    for line in read(path).splitlines():
        m = _ROW.match(line)
        if m:
            out.append(Row(m["when"], m["record"], m["sha"]))
    return out


def read(path: Path) -> str:
    """The ledger's text through the bounded reader (a regular file: a FIFO or device named by
    ``--ledger`` is refused at once, never waited on).
    """
    return files.read_text(path, None)


# What a ledger field may hold: a UTC time, a relative path or a hex digest. No "|", no space,
# no newline: a field can never end its cell or start a row of its own.
FIELD = re.compile(r"[A-Za-z0-9_.:+/-]{1,512}")


def check_row(row: Row) -> Row:
    """``row`` if each of its fields can be written as one cell; a `SimInputError` otherwise."""
    for field, value in (("sealed", row.sealed), ("record", row.record), ("sha256", row.sha256)):
        if not isinstance(value, str) or not FIELD.fullmatch(value):
            raise SimInputError(
                "cannot be written to the ledger",
                field=f"ledger.{field}",
                found=value,
                allowed="letters, digits and _ . : + / - (no '|', space or line break)",
            )
    if not re.fullmatch(r"[0-9a-f]{64}", row.sha256):
        raise SimInputError("not a SHA-256 digest", field="ledger.sha256", found=row.sha256)
    return row


def append(ledger: str | Path, record: str | Path, sealed: str) -> Row:
    """Append the record's row to the ledger (created with its header if missing).

    The row's fields are checked first (`check_row`), and the new ledger replaces the old one
    atomically (temporary file, then rename), so a reader sees the ledger with or without the
    row, never half of it. Call it holding the ledger's lock (`sim.results.claim`).
    """
    path = Path(ledger)
    row = check_row(Row(sealed, relative(record, path), file_sha256(record)))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = read(path) if path.exists() else HEADER
    if not text.endswith("\n"):
        text += "\n"
    text += f"| {row.sealed} | {row.record} | {row.sha256} |\n"
    write_text(text, path)
    return row


def check(ledger: str | Path, record: str | Path) -> tuple[bool, str]:
    """Whether the record's current bytes match a row of the ledger, and why not if not."""
    name = relative(record, ledger)
    digest = file_sha256(record)
    mine = [r for r in rows(ledger) if r.record == name]
    if not mine:
        return False, (
            f"{name} is not in the ledger {ledger}: it is not sealed (a seal killed between "
            "writing the record and its row leaves this); `sim forecast QUESTIONS --seal` "
            "seals it again"
        )
    if any(r.sha256 == digest for r in mine):
        return True, f"SHA-256 {digest[:16]}... matches the ledger row of {mine[0].sealed}"
    return False, (
        f"{name} was altered after sealing: its SHA-256 is {digest[:16]}..., the ledger "
        f"holds {mine[-1].sha256[:16]}..."
    )
