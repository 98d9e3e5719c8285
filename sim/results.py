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
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.errors import SimInputError

FORMAT = "sim-results"
FORMAT_VERSION = 1
DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "matplotlib", "scipy", "SALib", "dask")


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


def prepare(out: Path, force: bool) -> Path:
    """Check the target and create a temporary sibling to write into."""
    out = Path(out)
    if out.exists() and not force:
        raise SimInputError(
            "results directory already exists; choose another --out or pass --force to replace it",
            file=str(out),
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))


def commit(tmp: Path, out: Path) -> None:
    """Move a finished temporary directory into place (replacing an old one if forced)."""
    out = Path(out)
    if out.exists():
        trash = out.with_name(f".{out.name}.old")
        if trash.exists():
            shutil.rmtree(trash)
        os.replace(out, trash)
        os.replace(tmp, out)
        shutil.rmtree(trash)
    else:
        os.replace(tmp, out)


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file atomically (temporary name, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_json(obj: Mapping[str, Any], path: Path) -> None:
    """Write JSON atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n")
    os.replace(tmp, path)


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


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read and check a results directory's metadata."""
    path = Path(path)
    meta_path = path / "metadata.json"
    if not meta_path.exists():
        raise SimInputError("not a results directory (no metadata.json)", file=str(path))
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SimInputError(f"unreadable metadata.json: {exc}", file=str(meta_path)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SimInputError(
            "not a sim results directory",
            file=str(meta_path),
            field="format",
            found=meta.get("format") if isinstance(meta, dict) else None,
            allowed=FORMAT,
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise SimInputError(
            "results written by an incompatible version",
            file=str(meta_path),
            field="format_version",
            found=meta.get("format_version"),
            allowed=str(FORMAT_VERSION),
        )
    return meta
