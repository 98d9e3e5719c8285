"""Plain identifiers: the one rule for every name the tool turns into a path, a column or a row.

A scenario's name and the ids of its actors, issues, actions, deals, events, regimes and
outcomes; an experiment's name; the name and event ids of an events file; the name and
question ids of a questions file; the ids of stylized-fact checks. Each becomes a path
component (``results/<name>``, ``figures/<outcome>_month.png``, ``records/<name>.json``), a
Parquet column (``<outcome>_month``), a part of a dotted parameter name
(``actors.<actor>.salience.<issue>``) or a field of the forecast ledger. So each is checked
once, where its file is loaded, against one rule:

    ``[A-Za-z_][A-Za-z0-9_]{0,63}``: an ASCII letter or ``_``, then letters, digits or ``_``,
    64 characters at most.

That is a Python and SQL identifier (DuckDB reads such columns unquoted), a file name on every
file system, and it cannot hold ``/``, ``..``, ``.``, ``|``, a space, a newline, NUL or any
non-ASCII character. 64 characters leave room for the suffixes the tool adds
(``-seed<S>``, ``_month``, ``.json``) under the usual 255-byte limit of a file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sim.errors import SimInputError

MAX_LENGTH = 64
IDENTIFIER = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_LENGTH - 1}}}")
IDENTIFIER_TEXT = (
    f"a plain identifier: an ASCII letter or '_', then letters, digits or '_', "
    f"at most {MAX_LENGTH} characters"
)


def is_identifier(value: object) -> bool:
    """Whether ``value`` is a plain identifier (see the module docstring)."""
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None


def identifier(value: Any, file: str | None, field: str) -> str:
    """``value`` if it is a plain identifier; else one `SimInputError` naming file and field.

    A long value is shown cut short, so the message stays one readable line.
    """
    if not is_identifier(value):
        raise SimInputError(
            "not a plain identifier",
            file=file,
            field=field,
            found=_shown(value),
            allowed=IDENTIFIER_TEXT,
        )
    return value


def identifiers(table: Mapping[str, Any] | Iterable[str], file: str | None, field: str) -> None:
    """Check every key of a ``[field.<id>]`` table (or every name of a list) with `identifier`."""
    for key in table:
        identifier(key, file, f"{field}.{key}" if is_identifier(key) else field)


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 80:
        return value[:60] + f"... ({len(value)} characters)"
    return value
