"""Results directories: self-describing, written atomically, never silently overwritten.

Layout of a `sim run` results directory::

    runs.parquet          one row per replicate, every scalar outcome
    trajectories.parquet  one row per replicate and month (alignment, hedging, actions)
    metadata.json         format version, command, seed, replicates, months, overrides,
                          the resolved scenario, package and dependency versions, times
    outcomes.json         the declared outcomes (name, unit, description)
    figures/              default figures (PNG and SVG)

The directory is assembled under a dot-prefixed temporary name beside the target and renamed
into place at the end, so a crash never leaves a half-written results directory.

Rules every writing command follows (one mechanism, here):

- one writer per target: `claim` holds a lock file beside the target (``.NAME.lock``, holding
  the owner's pid, host and start time); a second writer is refused with one line;
- no silent overwrite: `check_target` refuses an existing output unless ``--force``, and
  ``--force`` replaces only what sim writes: a results directory with sim's metadata (or an
  empty directory) or, for a file output, a file; never a folder of other files;
- default results directories are ``results/<name>`` for a plain name (`default_dir`);
- files and directories get the modes the user's umask gives any new file (0o644 and 0o755
  under the usual umask 022), temporary directories included.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.errors import SimInputError
from sim.scenario.names import identifier

FORMAT = "sim-results"
FORMAT_VERSION = 1
DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "matplotlib", "scipy", "SALib", "dask")
RESULTS_ROOT = Path("results")
FORCE_HINT = "choose another --out or pass --force to replace it"


def now() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Versions of Python, this package and its main dependencies."""
    out = {"python": platform.python_version(), "sim": __version__}
    for dist in DEPENDENCIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def default_dir(name: str, suffix: str = "", prefix: str = "") -> Path:
    """The default results directory ``results/<prefix><name><suffix>`` of a scenario,
    experiment or events file (``prefix`` and ``suffix`` are the tool's own, e.g. ``-seed0``).

    Names are checked when files are read; checking again here keeps a name built in Python
    (not read from a file) from leading outside ``results/``.
    """
    identifier(name, None, "name")
    return RESULTS_ROOT / f"{prefix}{name}{suffix}"


# --------------------------------------------------------------------------------------------
# One writer per target: a lock file beside it


def lock_path(out: str | Path) -> Path:
    """The lock file of a target: ``.NAME.lock`` beside it (the target may not exist yet)."""
    out = Path(out).resolve()
    if not out.name:  # the file system root
        raise SimInputError("cannot be written as a whole", file=str(out), field="--out")
    return out.with_name(f".{out.name}.lock")


@contextmanager
def claim(out: str | Path) -> Iterator[Path]:
    """Hold the lock of target ``out`` while the block writes it; refuse if another holds it.

    The lock file is created with O_CREAT|O_EXCL and holds the owner's pid, host and start
    time, for the refusal message. Ownership is an exclusive `flock` on that file, which the
    kernel drops when the owner dies however it dies (SIGKILL included): a lock file left by
    a dead process is therefore stale and is taken over, and a reused pid cannot fake a
    live owner. On release the file is removed.
    """
    out = Path(out)
    path = lock_path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path, out)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise SimInputError(
            f"cannot write here: {exc.strerror or exc}{where}", file=str(out), field="--out"
        ) from None
    try:
        _remove_orphans(out)
        yield path
    finally:
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                path.unlink()
        except FileNotFoundError:
            pass
        os.close(fd)


def _acquire(path: Path, out: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # released between the two opens: try to create it again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(fd)
            os.close(fd)
            raise SimInputError(
                f"another sim process is writing this output ({owner}); wait for it to "
                "finish or choose another --out",
                file=str(out),
            ) from None
        try:
            current = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            current = False
        if not current:  # the owner released (removed) it while we waited: start over
            os.close(fd)
            continue
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": now(),
            "command": sys.argv[1:],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        return fd


def _owner(fd: int) -> str:
    """Who holds a lock, in words, from its lock file."""
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {record['pid']} on {record['host']} since {record['started']}"
    except (ValueError, KeyError, TypeError):
        return "lock file still being written"


# --------------------------------------------------------------------------------------------
# Targets: what may be replaced, temporaries beside them, atomic replacement


def is_own(path: str | Path) -> bool:
    """Whether ``path`` is a results directory sim wrote (its metadata carries sim's format)."""
    try:
        meta = json.loads((Path(path) / "metadata.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def check_target(out: str | Path, force: bool, *, directory: bool = True) -> None:
    """Refuse to write ``out`` if that would replace something sim may not replace.

    A missing target is fine. An existing one needs ``force``, and then it must be what sim
    writes there: a results directory sim wrote (or an empty directory) for a directory
    output, a file for a file output. Anything else is refused and left untouched.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise SimInputError(f"already exists; {FORCE_HINT}", file=str(out))
    if directory:
        if not out.is_dir():
            raise SimInputError(
                "exists and is not a directory; --force replaces only a results directory "
                "written by sim",
                file=str(out),
            )
        if not is_own(out) and any(out.iterdir()):
            raise SimInputError(
                "not a results directory written by sim (no sim metadata.json); --force "
                "replaces only those, so choose another --out",
                file=str(out),
            )
    elif not out.is_file():
        raise SimInputError("exists and is not a file; --force replaces only a file", file=str(out))


def _temp_pattern(out: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(out.name)}\.tmp-[0-9a-f]{{8}}")


def temp_sibling(out: str | Path) -> Path:
    """Create an empty directory beside ``out`` under a hidden, unique temporary name.

    Made with `os.mkdir`, so its mode follows the umask like every other results directory
    (`tempfile.mkdtemp` would make it 0o700).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
        try:
            tmp.mkdir()
            return tmp
        except FileExistsError:
            continue


def _remove_orphans(out: Path) -> None:
    """Remove temporaries of ``out`` left by writers that died (the caller holds the lock)."""
    if not out.parent.is_dir():
        return
    pattern = _temp_pattern(out)
    for entry in out.parent.iterdir():
        if pattern.fullmatch(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def remove(out: str | Path) -> None:
    """Delete a results directory: renamed away first, so a crash leaves no half-deleted one."""
    out = Path(out)
    trash = temp_sibling(out)
    os.replace(out, trash)
    shutil.rmtree(trash)


@contextmanager
def staged(out: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``out``; it replaces ``out`` when the block succeeds.

    On any exception (Ctrl-C included) the temporary directory is removed and ``out`` is left
    as it was. Call `check_target` under `claim` first.
    """
    out = Path(out)
    tmp = temp_sibling(out)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit(tmp, out)


def commit(tmp: Path, out: Path) -> None:
    """Move a finished temporary directory into place (replacing an old one if forced)."""
    out = Path(out)
    if out.is_symlink():
        out.unlink()  # --force replaces the link, never the folder it points to
    if out.exists():
        trash = temp_sibling(out)
        os.replace(out, trash)
        os.replace(tmp, out)
        shutil.rmtree(trash)
    else:
        os.replace(tmp, out)


def _temp_file(path: Path) -> Path:
    # One temporary name per writer, so two writers never move each other's files.
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(2)}.tmp")


def write_table(
    df: pd.DataFrame, path: Path, described: Mapping[str, Mapping[str, str]] | None = None
) -> None:
    """Write a Parquet file atomically (temporary name, then rename).

    ``described`` maps column names to ``{"unit": ..., "description": ...}``, stored as each
    column's field metadata, so a reader (pyarrow, DuckDB) sees what a number means.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = _temp_file(path)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if described:
            fields = [
                f.with_metadata({k: str(v) for k, v in described[f.name].items()})
                if f.name in described
                else f
                for f in table.schema
            ]
            table = table.cast(pa.schema(fields, metadata=table.schema.metadata))
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(obj: Mapping[str, Any], path: Path) -> None:
    """Write JSON atomically."""
    write_text(json.dumps(obj, indent=2, default=str) + "\n", path)


def write_text(text: str, path: Path) -> None:
    """Write a UTF-8 text file atomically (temporary name, then rename)."""
    tmp = _temp_file(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run_metadata(
    *,
    kind: str,
    command: list[str] | None,
    scenario: Any,
    seed: int,
    replicates: int,
    months: int,
    overrides: Mapping[str, Any],
    started: str,
    finished: str,
) -> dict[str, Any]:
    """The metadata record of a `sim run` results directory."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "command": command,
        "scenario_name": scenario.name,
        "scenario_source": scenario.source,
        "scenario": scenario.raw,
        "seed": seed,
        "replicates": replicates,
        "months": months,
        "overrides": dict(overrides),
        "versions": versions(),
        "started": started,
        "finished": finished,
    }


def outcomes_record(declared: tuple) -> list[dict[str, str]]:
    """The declared outcomes as plain records."""
    return [asdict(o) for o in declared]


def described(declared: tuple) -> dict[str, dict[str, str]]:
    """Column metadata (unit, description) of the declared outcomes, for `write_table`."""
    return {o.name: {"unit": o.unit, "description": o.description} for o in declared}


def tagged(runs: pd.DataFrame, scenario: str, seed: int) -> pd.DataFrame:
    """A run table with the scenario's name and the seed as its first columns, so tables from
    several results directories can be queried together.
    """
    return pd.concat(
        [pd.DataFrame({"scenario": scenario, "seed": seed}, index=runs.index), runs], axis=1
    )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, in hex (data files, records and inputs whose identity a
    results directory, calibration or sealed forecast records).
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_marked(path: str | Path, what: str, key: str, value: str, refusal: str) -> dict:
    """The ``metadata.json`` of a directory the tool wrote, checked to carry ``key = value``.

    One `SimInputError` for each way it can fail: no file ("not a WHAT"), unreadable JSON, or
    the wrong mark (``refusal``, naming the field and what is allowed).
    """
    meta_path = Path(path) / "metadata.json"
    if not meta_path.is_file():
        raise SimInputError(f"not a {what} (no metadata.json)", file=str(path))
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SimInputError(f"unreadable metadata.json: {exc}", file=str(meta_path)) from None
    if not isinstance(meta, dict) or meta.get(key) != value:
        raise SimInputError(
            refusal,
            file=str(meta_path),
            field=key,
            found=meta.get(key) if isinstance(meta, dict) else None,
            allowed=value,
        )
    return meta


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read and check a results directory's metadata."""
    meta_path = Path(path) / "metadata.json"
    meta = read_marked(path, "results directory", "format", FORMAT, "not a sim results directory")
    if meta.get("format_version") != FORMAT_VERSION:
        raise SimInputError(
            "results written by an incompatible version",
            file=str(meta_path),
            field="format_version",
            found=meta.get("format_version"),
            allowed=str(FORMAT_VERSION),
        )
    return meta
