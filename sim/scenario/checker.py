"""Field-by-field checks of parsed TOML documents.

Each check raises one `SimInputError` naming the file, the dotted field path, what was found
and what is allowed, so every loader reports bad input the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.errors import SimInputError
from sim.scenario.names import identifier, identifiers


class Checker:
    """Field-by-field checks that raise one `SimInputError` naming the field path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, message: str, found: Any = None, allowed: str | None = None):
        """Raise the error for ``field``."""
        raise SimInputError(message, file=self.source, field=field, found=found, allowed=allowed)

    def table(
        self, doc: Mapping, field: str, key: str, required: bool = True, most: int | None = None
    ) -> dict:
        """The sub-table ``key`` of ``doc`` (empty if optional and absent).

        ``most`` caps its number of entries, checked before any entry is validated.
        """
        path = f"{field}.{key}" if field else key
        if key not in doc:
            if required:
                self.fail(path, "missing table", allowed="a [table]")
            return {}
        value = doc[key]
        if not isinstance(value, Mapping):
            self.fail(path, "expected a table", found=value)
        if most is not None and len(value) > most:
            self.fail(path, "too many entries", found=len(value), allowed=f"at most {most:,}")
        return value

    def keys(self, doc: Mapping, field: str, allowed: tuple[str, ...]) -> None:
        """Refuse keys not in ``allowed`` (typos are errors, not silently ignored)."""
        for key in doc:
            if key not in allowed:
                where = f"{field}.{key}" if field else key
                self.fail(where, "unknown key", allowed=", ".join(allowed))

    def number(
        self,
        doc: Mapping,
        field: str,
        key: str,
        lo: float = -math.inf,
        hi: float = math.inf,
        *,
        lo_open: bool = False,
        hi_open: bool = False,
        integer: bool = False,
        default: float | None = None,
    ) -> float:
        """A finite number in its range (an integer where asked), or ``default`` when absent."""
        path = f"{field}.{key}"
        if key not in doc:
            if default is not None:
                return default
            self.fail(path, "missing number", allowed=range_text(lo, hi, lo_open, hi_open))
        value = doc[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "an integer" if integer else "a number"
            self.fail(path, f"expected {kind}", found=value)
        if not math.isfinite(value):
            self.fail(path, "not a finite number", found=value)
        if integer and not float(value).is_integer():
            self.fail(path, "expected an integer", found=value)
        bad = value < lo or value > hi or (lo_open and value == lo) or (hi_open and value == hi)
        if bad:
            self.fail(
                path, "out of range", found=value, allowed=range_text(lo, hi, lo_open, hi_open)
            )
        return int(value) if integer else float(value)

    def text(self, doc: Mapping, field: str, key: str, default: str | None = None) -> str:
        """A quoted string, or ``default`` when absent."""
        path = f"{field}.{key}"
        if key not in doc:
            if default is not None:
                return default
            self.fail(path, "missing text", allowed="a quoted string")
        value = doc[key]
        if not isinstance(value, str):
            self.fail(path, "expected a quoted string", found=value)
        return value

    def plain_name(self, doc: Mapping, field: str, key: str) -> str:
        """A name that is also a safe file name and column: a plain identifier (`names`)."""
        return identifier(self.text(doc, field, key), self.source, f"{field}.{key}")

    def ids(self, doc: Mapping, field: str) -> Mapping:
        """``doc``, after checking that each of its keys (``[field.<id>]``) is a plain
        identifier (`names`): ids become columns, file names and parts of dotted names.
        """
        identifiers(doc, self.source, field)
        return doc

    def member(self, doc: Mapping, field: str, key: str, choices: tuple[str, ...]) -> str:
        """A string that must be one of ``choices``."""
        value = self.text(doc, field, key)
        if value not in choices:
            self.fail(f"{field}.{key}", "unknown name", found=value, allowed=", ".join(choices))
        return value

    def numbers_by(
        self,
        doc: Mapping,
        field: str,
        names: tuple[str, ...],
        lo: float,
        hi: float,
        *,
        complete: bool,
    ) -> dict[str, float]:
        """A table of numbers keyed by known names (all of them if ``complete``)."""
        out = {}
        for key in doc:
            if key not in names:
                self.fail(f"{field}.{key}", "unknown name", allowed=", ".join(names))
            out[key] = self.number(doc, field, key, lo, hi)
        if complete:
            missing = [n for n in names if n not in doc]
            if missing:
                self.fail(f"{field}.{missing[0]}", "missing number", allowed=range_text(lo, hi))
        return out


def range_text(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> str:
    """The allowed range in words, for error messages."""
    if math.isinf(lo) and math.isinf(hi):
        return "any finite number"
    if math.isinf(hi):
        return f"a number {'>' if lo_open else '>='} {lo:g}"
    if math.isinf(lo):
        return f"a number {'<' if hi_open else '<='} {hi:g}"
    return f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
