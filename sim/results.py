"""Results directories: self-describing, written atomically, never silently overwritten.

Layout of a `sim run` results directory::

    runs.parquet          one row per replicate, every scalar outcome
    trajectories.parquet  one row per replicate and month (alignment, hedging, actions),
                          written a block of replicates at a time (`TableWriter`)
    metadata.json         format version, command, seed, replicates, months, overrides,
                          the resolved scenario, package and dependency versions, times
    outcomes.json         the declared outcomes (name, unit, description)
    figures/              default figures (PNG and SVG)

The directory is assembled under a dot-prefixed temporary name beside the target and renamed
into place at the end, so a crash never leaves a half-written results directory.

Rules every writing command follows (one mechanism, here; `writing` is the sequence):

- one writer per target: `claim` holds a lock file beside the target (``.NAME.lock``, holding
  the owner's pid, host and start time), created with O_EXCL|O_NOFOLLOW and never opened
  through a link; a second writer is refused with one line;
- ownership is proved, not assumed: every directory the tool makes holds its marker
  (``.sim-results.json``) from its first instant, and a finished results directory lists in
  ``manifest.json`` every file the tool wrote in it. A half-made directory is recognised only
  by its temporary name and the marker, never by what else it holds (a folder of dot-files is
  nobody's temporary);
- no silent overwrite: `check_target` refuses an existing output unless ``--force``, and
  ``--force`` replaces only an empty directory or a results directory whose every entry is in
  its manifest (else it names the file that is not), and for a file output (`check_file`: CSV
  tables, figures, reports) only a regular file; never a link, never ``--out .``;
- default results directories are ``results/<name>`` for a plain identifier (`default_dir`);
- files and directories get the modes the user's umask gives any new file (0o644 and 0o755
  under the usual umask 022), temporary directories included.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import socket
import stat
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
from sim.scenario import files
from sim.scenario.limits import MAX_DATA_BYTES
from sim.scenario.names import identifier

FORMAT = "sim-results"
FORMAT_VERSION = 1
DEPENDENCIES = (
    "mesa",
    "numpy",
    "numba",
    "pandas",
    "pyarrow",
    "matplotlib",
    "scipy",
    "SALib",
    "dask",
)
RESULTS_ROOT = Path("results")
FORCE_HINT = "choose another --out or pass --force to replace it"


def now() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Versions of Python, this package and its main dependencies."""
    out = {"python": platform.python_version(), "sim": __version__, "revision": revision()}
    for dist in DEPENDENCIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def revision() -> str:
    """The code's revision: ``git describe`` of the checkout the package runs from (``-dirty``
    when it has uncommitted changes), else the package version (an installed wheel).
    """
    import subprocess

    here = Path(__file__).resolve().parents[1]
    if (here / ".git").exists():
        try:
            done = subprocess.run(
                ["git", "describe", "--always", "--dirty", "--tags"],
                cwd=here,
                capture_output=True,
                text=True,
                timeout=10,
            )
            if done.returncode == 0 and done.stdout.strip():
                return f"git {done.stdout.strip()}"
        except (OSError, subprocess.SubprocessError):
            pass
    return f"sim {__version__}"


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

    The lock file is created with O_CREAT|O_EXCL|O_NOFOLLOW (an existing one is opened only
    if it is a regular file, never through a link) and holds the owner's pid, host and start
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
            if os.path.samestat(os.fstat(fd), os.lstat(path)):
                path.unlink()
        except FileNotFoundError:
            pass
        os.close(fd)


# A lock file is never a link (a link would make the lock's write truncate what it points to)
# and never a device or pipe (O_NONBLOCK: opening one must not wait).
_LOCK_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK


def _open_lock(path: Path, out: Path) -> int | None:
    """Create the lock file (O_CREAT|O_EXCL|O_NOFOLLOW), or open the existing one if it is a
    regular file; None if it vanished meanwhile. A link or anything else is refused.
    """
    try:
        return os.open(path, _LOCK_FLAGS | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        pass
    try:
        fd = os.open(path, _LOCK_FLAGS)
    except FileNotFoundError:
        return None  # released between the two opens: try to create it again
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        fd = -1
    if fd < 0 or not stat.S_ISREG(os.fstat(fd).st_mode):
        if fd >= 0:
            os.close(fd)
        raise SimInputError(
            "the lock file beside this output is a link or not a regular file; sim never "
            "writes through one: remove it and run again",
            file=str(path),
        )
    return fd


def _acquire(path: Path, out: Path) -> int:
    while True:
        fd = _open_lock(path, out)
        if fd is None:
            continue
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
# Ownership: the marker, the manifest, what --force may replace

# The tool's marker: the first file of every directory it makes (written atomically, before
# anything else), so a half-made directory is known for the tool's own from its first instant;
# a directory without it is never taken for one.
MARKER = ".sim-results.json"
MARKER_TEXT = '{"written_by": "sim", "files": "manifest.json"}\n'
# The manifest: every file and folder the tool wrote in a results directory, written when the
# directory is complete (with patterns for files a sweep adds later). `--force` replaces a
# directory only when everything in it is listed there.
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "sim-manifest"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
# Temporary files of `write_table` / `write_json` / `write_text` (`_temp_file`), anywhere inside.
TEMP_FILE = r"(?:[^/]+/)*\.[^/]+\.\d+-[0-9a-f]{4}\.tmp"
# Files a results directory gains after it was staged (a sweep's chunks), as patterns a
# manifest may name. Only these are honoured: a manifest is a file like any other, so a
# pattern it names that the tool does not know (".*") admits nothing.
LATER_FILES = (
    r"(runs|trajectories)/",
    r"(runs|trajectories)/chunk-\d{6,}\.parquet",
    r"failures\.json",
)


def is_own(path: str | Path) -> bool:
    """Whether ``path`` is a directory the tool made (it carries the marker and a manifest)."""
    return _manifest(Path(path)) is not None


def _manifest(out: Path) -> dict | None:
    """The manifest of ``out`` if ``out`` is a real directory with the marker and a readable
    manifest (regular files both, links never followed); None otherwise.
    """
    try:
        if not stat.S_ISDIR(os.lstat(out).st_mode):
            return None
        if not stat.S_ISREG(os.lstat(out / MARKER).st_mode):
            return None
        fd = os.open(out / MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MANIFEST_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            doc = json.loads(f.read(MAX_MANIFEST_BYTES + 1))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    ok = (
        isinstance(doc, dict)
        and doc.get("format") == MANIFEST_FORMAT
        and isinstance(doc.get("files"), list)
        and isinstance(doc.get("patterns", []), list)
        and all(isinstance(x, str) for x in (*doc["files"], *doc.get("patterns", [])))
    )
    return doc if ok else None


def _entries(out: Path) -> Iterator[str]:
    """Every entry under ``out`` as a relative POSIX path (folders end in "/"); links are
    listed, never followed.
    """
    for root, dirs, names in os.walk(out):
        rel = Path(root).relative_to(out)
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                dirs.remove(d)
                names.append(d)
        for name in dirs:
            yield (rel / name).as_posix() + "/"
        for name in names:
            yield (rel / name).as_posix()


def foreign(out: str | Path) -> str | None:
    """The first entry of results directory ``out`` the tool did not write (not in its
    manifest), "" when ``out`` has no marker and manifest at all, None when it is all the
    tool's own.
    """
    out = Path(out)
    doc = _manifest(out)
    if doc is None:
        return ""
    listed = {*doc["files"], MARKER, MANIFEST}
    known = [p for p in doc.get("patterns", []) if p in LATER_FILES]
    patterns = [re.compile(p) for p in (*known, TEMP_FILE)]
    for entry in _entries(out):
        if entry not in listed and not any(p.fullmatch(entry) for p in patterns):
            return entry
    return None


def write_manifest(folder: Path, patterns: tuple[str, ...] = ()) -> None:
    """List every entry of ``folder`` (a results directory being staged) in its manifest;
    ``patterns`` (regular expressions over relative paths) admit files added later.
    """
    files = sorted(e for e in _entries(folder) if e not in (MARKER, MANIFEST))
    doc = {"format": MANIFEST_FORMAT, "files": files, "patterns": list(patterns)}
    write_json(doc, folder / MANIFEST)


def record_written(paths: list[Path]) -> None:
    """Add files the tool wrote into an existing results directory (e.g. `sim plot`'s default
    ``RESULTS/figures``) to that directory's manifest, so a later ``--force`` knows them.
    Files outside any results directory are left out.
    """
    by_root: dict[Path, list[str]] = {}
    for path in paths:
        path = Path(os.path.abspath(path))
        for root in path.parents:
            if _manifest(root) is not None:
                rel = path.relative_to(root)
                entries = [p.as_posix() + "/" for p in reversed(rel.parents) if p.parts]
                by_root.setdefault(root, []).extend([*entries, rel.as_posix()])
                break
    for root, entries in by_root.items():
        with claim(root):
            doc = _manifest(root)
            if doc is not None:
                doc["files"] = sorted({*doc["files"], *entries})
                write_json(doc, root / MANIFEST)


def refuse_current(out: Path) -> None:
    """``--out .`` (or a folder that holds the working folder) is never a results directory."""
    here = Path.cwd().resolve()
    target = Path(os.path.abspath(out))
    if target == here or target in here.parents:
        raise SimInputError(
            "is the current folder or holds it; a results directory is a new folder of its own",
            field="--out",
            found=str(out),
            allowed="a new folder name, e.g. --out results/NAME",
        )


def check_target(out: str | Path, force: bool, *, directory: bool = True) -> None:
    """Refuse to write ``out`` if that would replace something sim may not replace.

    A missing target is fine. An existing one needs ``force``, and then it must be what sim
    writes there: for a directory output, an empty directory or a results directory whose
    every entry is listed in its manifest (anything else inside is named in the refusal); for
    a file output, a regular file. A symbolic link is never replaced. Nothing is touched here.
    """
    out = Path(out)
    if directory:
        refuse_current(out)
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise SimInputError(f"already exists; {FORCE_HINT}", file=str(out))
    if out.is_symlink():
        raise SimInputError(
            "is a symbolic link; --force never replaces a link or what it points to: give the "
            "folder itself or another --out",
            file=str(out),
        )
    if not directory:
        if not out.is_file():
            raise SimInputError(
                "exists and is not a file; --force replaces only a file", file=str(out)
            )
        return
    if not out.is_dir():
        raise SimInputError(
            "exists and is not a directory; --force replaces only a results directory "
            "written by sim",
            file=str(out),
        )
    if not any(out.iterdir()):
        return
    extra = foreign(out)
    if extra == "":
        raise SimInputError(
            f"not a results directory written by sim (no {MARKER} and {MANIFEST}); --force "
            "replaces only those, so choose another --out",
            file=str(out),
        )
    if extra is not None:
        raise SimInputError(
            f"was not written by sim (not in {MANIFEST}); --force replaces a results "
            "directory only when everything in it is sim's: move the file or choose another "
            "--out",
            file=str(out / extra),
        )


def check_file(path: str | Path, force: bool, field: str) -> None:
    """The one overwrite rule of file outputs (CSV tables, figures, reports): refuse an
    existing file without ``force``, and anything but a regular file even with it.
    """
    path = Path(path)
    try:
        check_target(path, force, directory=False)
    except SimInputError as exc:
        raise SimInputError(exc.detail.replace("--out", field), file=exc.file) from None


# --------------------------------------------------------------------------------------------
# Temporaries beside targets, atomic replacement


def _temp_pattern(out: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(out.name)}\.tmp-[0-9a-f]{{8}}")


def temp_sibling(out: str | Path) -> Path:
    """Create a directory beside ``out`` under a hidden, unique temporary name, holding only
    the tool's marker (written before anything else, atomically).

    Made with `os.mkdir`, so its mode follows the umask like every other results directory
    (`tempfile.mkdtemp` would make it 0o700).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
        try:
            tmp.mkdir()
            break
        except FileExistsError:
            continue
    write_text(MARKER_TEXT, tmp / MARKER)
    return tmp


def _remove_orphans(out: Path) -> None:
    """Remove temporaries of ``out`` left by writers that died (the caller holds the lock).

    Only a directory with the temporary name of ``out`` that is empty (killed between its
    `mkdir` and its marker) or carries the tool's marker is removed; a link is never followed.
    """
    if not out.parent.is_dir():
        return
    pattern = _temp_pattern(out)
    for entry in out.parent.iterdir():
        if not pattern.fullmatch(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        if (entry / MARKER).is_file() and not (entry / MARKER).is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        elif not any(entry.iterdir()):
            entry.rmdir()


def remove(out: str | Path) -> None:
    """Delete a results directory (checked with `check_target` first): renamed away first, so
    a crash leaves no half-deleted one.
    """
    _discard(_move_aside(Path(out)))


def _move_aside(out: Path) -> Path:
    """Rename ``out`` to an unused temporary name beside it (the caller holds the lock)."""
    while True:
        trash = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
        if not trash.exists() and not trash.is_symlink():
            os.replace(out, trash)
            return trash


def _discard(trash: Path) -> None:
    if trash.is_symlink() or not trash.is_dir():
        trash.unlink()
    else:
        shutil.rmtree(trash)


@contextmanager
def staged(out: str | Path, patterns: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield a temporary directory beside ``out``; it replaces ``out`` when the block succeeds,
    with its manifest (``patterns``: files the tool adds later, see `write_manifest`).

    On any exception (Ctrl-C included) the temporary directory is removed and ``out`` is left
    as it was. Call `check_target` under `claim` first (`writing` does all three).
    """
    out = Path(out)
    tmp = temp_sibling(out)
    try:
        yield tmp
        write_manifest(tmp, patterns)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit(tmp, out)


@contextmanager
def writing(out: str | Path, force: bool, patterns: tuple[str, ...] = ()) -> Iterator[Path]:
    """The results-directory sequence every writing command follows, in one place: hold the
    lock of ``out`` (`claim`), check that it may be written (`check_target`, again under the
    lock), and yield a staged temporary directory that replaces ``out`` when the block
    succeeds (`staged`). Commands call `check_target` once more before any work, so a
    refusal never comes after minutes of computing.
    """
    refuse_current(Path(out))
    with claim(out):
        check_target(out, force)
        with staged(out, patterns) as tmp:
            yield tmp


def commit(tmp: Path, out: Path) -> None:
    """Move a finished temporary directory into place (replacing an old one if forced)."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        trash = _move_aside(out)
        os.replace(tmp, out)
        _discard(trash)
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
    import pyarrow.parquet as pq

    tmp = _temp_file(path)
    try:
        pq.write_table(_arrow_table(df, described), tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _arrow_table(df: pd.DataFrame, described: Mapping[str, Mapping[str, str]] | None):
    """``df`` as an Arrow table, with ``described`` stored as its columns' field metadata."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    if described:
        fields = [
            f.with_metadata({k: str(v) for k, v in described[f.name].items()})
            if f.name in described
            else f
            for f in table.schema
        ]
        table = table.cast(pa.schema(fields, metadata=table.schema.metadata))
    return table


class TableWriter:
    """A Parquet file written a block of rows at a time, so a long table (a large run's
    trajectories) never has to be held whole; atomic like `write_table`.

    Use as a context manager: `write` each block in order (each becomes one or more row
    groups); the file appears under ``path`` only when the block exits without an error, and
    only if a block was written. Read back whole, the file holds the same table (rows, columns,
    dtypes, values) as `write_table` of the blocks concatenated; the bytes differ (row groups).
    """

    def __init__(self, path: Path, described: Mapping[str, Mapping[str, str]] | None = None):
        self.path = Path(path)
        self.described = described
        self._tmp = _temp_file(self.path)
        self._writer: Any = None

    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of ``df`` (the same columns and dtypes as the first block)."""
        import pyarrow.parquet as pq

        table = _arrow_table(df, self.described)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._writer.write_table(table)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
                if kind is None:
                    os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)


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
    """A run table (or trajectories) with the scenario's name and the seed as its first
    columns, so tables from several results directories can be queried together. A table
    already tagged is returned as it is.
    """
    if list(runs.columns[:2]) == ["scenario", "seed"]:
        return runs
    return pd.concat(
        [pd.DataFrame({"scenario": scenario, "seed": seed}, index=runs.index), runs], axis=1
    )


# Units of the key and per-month columns every table shares (outcomes are declared).
_KEY_COLUMNS = {
    "scenario": ("name", "Scenario name (scenario.name of the scenario file)"),
    "seed": ("seed", "Seed of the run's random streams"),
    "point": ("index", "Design point of a sweep (row of points.parquet)"),
    "replicate": ("index", "Replicate: the run's random stream under the seed"),
    "month": ("month", "Months since the start (0 = the starting state)"),
    "date": ("YYYY-MM", "Calendar month"),
}


def column_descriptions(
    columns: Any, declared: tuple = (), labels: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """Unit and description of every column of a run table, trajectories or sweep chunk, for
    `write_table` and ``outcomes.json``: declared outcomes as declared, key columns, per-month
    alignment and action columns, and scenario parameters (dotted names) with the plain alias
    `plain_name` gives them.
    """
    from sim.model import outcomes

    lab = labels or {}
    known = {o.name: {"unit": o.unit, "description": o.description} for o in declared}
    out: dict[str, dict[str, str]] = {}
    for col in map(str, columns):
        if col in known:
            out[col] = known[col]
        elif col in _KEY_COLUMNS:
            unit, text = _KEY_COLUMNS[col]
            out[col] = {"unit": unit, "description": text}
        elif col.startswith(f"alignment{outcomes.SEP}"):
            a, b = (lab.get(x, x) for x in outcomes.pair_of(col))
            out[col] = {"unit": "index in [-1, 1]", "description": f"{a}-{b} alignment"}
        elif col.startswith(f"action{outcomes.SEP}"):
            actor = col.split(outcomes.SEP, 1)[1]
            out[col] = {
                "unit": "action",
                "description": f"{lab.get(actor, actor)}'s action that month (month 0: the "
                "policy held at the start)",
            }
        elif "." in col:
            out[col] = {
                "unit": "parameter value",
                "description": f"Scenario parameter {col}",
                "plain_name": plain_name(col),
            }
    return out


def plain_name(dotted: str) -> str:
    """A dotted parameter name as a plain identifier (SQL needs no quotes): dots become double
    underscores, ``actors.russia.salience.ukraine`` -> ``actors__russia__salience__ukraine``.
    """
    return dotted.replace(".", "__")


def trajectory_table(
    series: pd.DataFrame,
    scenario: str,
    seed: int,
    declared: tuple = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """Trajectories (or one chunk of them) as written: tagged with ``scenario`` and ``seed``
    like the run table, and the unit and description of every column (for `write_table` and
    ``outcomes.json``'s ``trajectories`` list). Every writer of trajectories calls this, so
    whole and chunked files carry the same columns.
    """
    table = tagged(series, scenario, seed)
    return table, column_descriptions(table.columns, of_kind(declared, "series"), labels)


def of_kind(declared: tuple, kind: str) -> tuple:
    """The declared outcomes of one kind: ``series`` (per month) or ``scalar`` (per run); a
    name can be both (a balance index per month, and whether the run ended balanced).
    """
    return tuple(o for o in declared if getattr(o, "kind", "scalar") == kind)


def columns_record(described: Mapping[str, Mapping[str, str]]) -> list[dict[str, str]]:
    """Column descriptions as plain records (``outcomes.json``'s ``trajectories`` list)."""
    return [{"name": name, **dict(d)} for name, d in described.items()]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, in hex (data files, records and inputs whose identity a
    results directory, calibration or sealed forecast records).
    """
    return files.sha256(path, MAX_DATA_BYTES)


def read_marked(path: str | Path, what: str, key: str, value: str, refusal: str) -> dict:
    """The ``metadata.json`` of a directory the tool wrote, checked to carry ``key = value``.

    One `SimInputError` for each way it can fail: no file ("not a WHAT"), unreadable JSON, or
    the wrong mark (``refusal``, naming the field and what is allowed).
    """
    meta_path = Path(path) / "metadata.json"
    if not meta_path.is_file():
        raise SimInputError(f"not a {what} (no metadata.json)", file=str(path))
    try:
        meta = json.loads(files.read_text(meta_path, (".json",)))  # bounded: 1 MiB at most
    except (json.JSONDecodeError, RecursionError) as exc:
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
