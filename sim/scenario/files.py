"""The one reader of user files: scenarios, their bases, evidence tables, experiments, tables,
data files, metadata, forecast records and the ledger, and every file whose hash is recorded.

Every file the tool reads on a user's behalf goes through `read_bytes` (text through
`read_text`, TOML through `read_toml`, hashes through `sha256`), so every kind of file gets the
same guards: the expected suffix, a regular file (never a device, pipe or socket, which can
block or never end; opened with ``O_NONBLOCK`` so a FIFO cannot hang it), not a /proc or /sys
pseudo-file, at most a size limit from `sim.scenario.limits` read, UTF-8 text, and for TOML at
most `MAX_NESTING` levels of tables and arrays. Each refusal is one `SimInputError` naming the
file, never quoting its content.

Files named inside another file (a measurement declaration's ``data.file``, the questions and
calibration a forecast record names) resolve through `inside`: relative names only, and the
result must lie in the folders the caller allows (the folder holding the naming file, the
shipped data), so a downloaded scenario folder cannot make the tool read /etc/shadow.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.scenario.limits import MAX_FILE_BYTES, MAX_NAME_CHARS, MAX_NESTING

# Pseudo-filesystems whose files report a size of 0 and may be endless or secret.
PSEUDO_ROOTS = ("/proc", "/sys")


def read_bytes(
    path: str | Path,
    suffixes: tuple[str, ...] | None = (".toml",),
    limit: int = MAX_FILE_BYTES,
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes whose name ends in one of
    ``suffixes`` (any name when ``suffixes`` is None).
    """
    path = Path(path)
    where = str(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
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
    _check_kind(info, where, limit)
    try:
        # O_NONBLOCK: should the file be swapped for a pipe after the check, opening it must not
        # wait for a writer; fstat below then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise SimInputError(f"cannot be read ({exc.strerror})", file=where) from None
    with os.fdopen(fd, "rb") as fh:
        _check_kind(os.fstat(fd), where, limit)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise SimInputError("file too large", file=where, allowed=_bytes(limit))
    return data


def read_text(
    path: str | Path, suffixes: tuple[str, ...] | None = (".toml",), limit: int = MAX_FILE_BYTES
) -> str:
    """The UTF-8 text of a small regular file whose name ends in one of ``suffixes``."""
    data = read_bytes(path, suffixes, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SimInputError("not a text (UTF-8) file", file=str(path)) from None


def sha256(path: str | Path, limit: int) -> str:
    """SHA-256 of a regular file's bytes (at most ``limit``), in hex."""
    return hashlib.sha256(read_bytes(path, None, limit)).hexdigest()


def inside(
    name: object, base: str | Path, roots: tuple[str | Path, ...], *, file: str, field: str
) -> Path:
    """The file ``name`` (as written in ``file`` at ``field``) relative to the folder ``base``,
    refused unless it is a relative path that lands, links resolved, in one of ``roots``.

    This is how a file named inside another file is found: never by an absolute path, never
    outside the folders the naming file may reach.
    """
    if not isinstance(name, str) or not name.strip():
        raise SimInputError("expected a relative file name", file=file, field=field)
    if "\0" in name or len(name) > MAX_NAME_CHARS:
        raise SimInputError(
            "not a usable file name",
            file=file,
            field=field,
            allowed=f"a relative path of at most {MAX_NAME_CHARS} characters",
        )
    if Path(name).is_absolute() or name.startswith("~"):
        raise SimInputError(
            "an absolute path is not allowed here",
            file=file,
            field=field,
            found=name,
            allowed=_roots_text(roots),
        )
    target = (Path(base) / name).resolve()
    for root in roots:
        if target.is_relative_to(Path(root).resolve()):
            return target
    raise SimInputError(
        "points outside the folders it may name", file=file, field=field, found=name,
        allowed=_roots_text(roots),
    )  # fmt: skip


def _roots_text(roots: tuple[str | Path, ...]) -> str:
    return "a relative path inside " + " or ".join(str(r) for r in roots)


def _bytes(limit: int) -> str:
    if limit % (1 << 20) == 0:
        return f"at most {limit:,} bytes ({limit >> 20} MiB)"
    return f"at most {limit:,} bytes"


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


def _check_kind(info: os.stat_result, where: str, limit: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise SimInputError("is a directory, expected a file", file=where)
    if not stat.S_ISREG(info.st_mode):
        raise SimInputError("not a regular file (a device, pipe or socket)", file=where)
    if any(_same_device(info, root) for root in PSEUDO_ROOTS):
        raise SimInputError("a system pseudo-file (/proc, /sys), not a user file", file=where)
    if info.st_size > limit:
        raise SimInputError(
            "file too large", file=where, found=f"{info.st_size:,} bytes", allowed=_bytes(limit)
        )


def _same_device(info: os.stat_result, root: str) -> bool:
    # only a mounted pseudo-filesystem: an unmounted /proc shares the root's device
    return os.path.ismount(root) and os.stat(root).st_dev == info.st_dev
