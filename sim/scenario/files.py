"""The one reader of user files: scenarios, their bases, evidence tables, experiments, tables.

Every file the tool reads on a user's behalf goes through `read_text` (and TOML through
`read_toml`), so every kind of file gets the same guards: the expected suffix, a regular file
(never a device, pipe or socket, which can block or never end), not a /proc or /sys pseudo-file,
at most `MAX_FILE_BYTES` read, UTF-8 text, and for TOML at most `MAX_NESTING` levels of tables
and arrays. Each refusal is one `SimInputError` naming the file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.scenario.limits import MAX_FILE_BYTES, MAX_NESTING

# Pseudo-filesystems whose files report a size of 0 and may be endless or secret.
PSEUDO_ROOTS = ("/proc", "/sys")


def read_text(path: str | Path, suffixes: tuple[str, ...] = (".toml",)) -> str:
    """The UTF-8 text of a small regular file whose name ends in one of ``suffixes``."""
    path = Path(path)
    where = str(path)
    if path.suffix.lower() not in suffixes:
        raise SimInputError(
            "unexpected file type",
            file=where,
            found=path.suffix or "no suffix",
            allowed=", ".join(suffixes),
        )
    try:
        info = path.stat()  # follows links: what counts is the file actually read
    except FileNotFoundError:
        raise SimInputError("file does not exist", file=where) from None
    except OSError as exc:
        raise SimInputError(f"cannot be read ({exc.strerror})", file=where) from None
    _check_kind(info, where)
    try:
        # O_NONBLOCK: should the file be swapped for a pipe after the check, opening it must not
        # wait for a writer; fstat below then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise SimInputError(f"cannot be read ({exc.strerror})", file=where) from None
    with os.fdopen(fd, "rb") as fh:
        _check_kind(os.fstat(fd), where)
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SimInputError(
            "file too large", file=where, allowed=f"at most {MAX_FILE_BYTES:,} bytes (1 MiB)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SimInputError("not a text (UTF-8) file", file=where) from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file through `read_text`, turning every failure into a `SimInputError`."""
    where = str(path)
    text = read_text(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages give a position, never the file's content
        raise SimInputError(f"not valid TOML: {exc}", file=where) from None
    except RecursionError:
        # nested arrays or inline tables hundreds deep exhaust the parser before we can count
        raise SimInputError("nested too deeply", file=where, allowed=_nesting()) from None
    if nesting(doc) > MAX_NESTING:
        raise SimInputError("nested too deeply", file=where, allowed=_nesting())
    return doc


def nesting(doc: Any) -> int:
    """Levels of tables and arrays in a parsed document, counted without recursion.

    Stops counting once past `MAX_NESTING`, so the cost stays linear in the document.
    """
    deepest = 0
    stack = [(doc, 1)] if isinstance(doc, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def _nesting() -> str:
    return f"at most {MAX_NESTING} levels of tables and arrays"


def _check_kind(info: os.stat_result, where: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise SimInputError("is a directory, expected a file", file=where)
    if not stat.S_ISREG(info.st_mode):
        raise SimInputError("not a regular file (a device, pipe or socket)", file=where)
    if any(_same_device(info, root) for root in PSEUDO_ROOTS):
        raise SimInputError("a system pseudo-file (/proc, /sys), not a user file", file=where)
    if info.st_size > MAX_FILE_BYTES:
        raise SimInputError(
            "file too large",
            file=where,
            found=f"{info.st_size:,} bytes",
            allowed=f"at most {MAX_FILE_BYTES:,} bytes (1 MiB)",
        )


def _same_device(info: os.stat_result, root: str) -> bool:
    # only a mounted pseudo-filesystem: an unmounted /proc shares the root's device
    return os.path.ismount(root) and os.stat(root).st_dev == info.st_dev
