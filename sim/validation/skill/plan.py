"""A pre-registered rolling-origin evaluation, read from its file (``evaluations/*.toml``).

The file fixes, before any result is seen, the origins, horizons, pairs, forecasters and scores
(docs/skill.md). `load` checks it: every problem is one `SimInputError` naming the file and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.scenario import read_toml

EVALUATION_KEYS = (
    "scenario",
    "data",
    "origins",
    "horizons",
    "pairs",
    "samples",
    "seed",
    "first_year",
)
SCORE_KEYS = ("crps", "intervals", "pit_bins", "reference", "block", "replicates")
KINDS = ("core", "persistence", "drift", "window_mean", "model", "core_model")
NAIVE = ("persistence", "drift", "window_mean")
KEYS = {
    "core": {"kind"},
    "persistence": {"kind", "pooled"},
    "drift": {"kind"},
    "window_mean": {"kind", "years"},
    "model": {"kind", "runs", "calibration"},
    "core_model": {"kind", "runs", "calibration"},
}


@dataclass(frozen=True)
class Forecaster:
    """One forecaster of the evaluation: its name, kind and options."""

    name: str
    kind: str
    pooled: bool = False
    years: int = 5
    runs: int = 200
    calibration: str = ""  # a calibration directory (absolute, or "" for none)

    @property
    def naive(self) -> bool:
        """Whether this is one of the naive baselines."""
        return self.kind in NAIVE


@dataclass(frozen=True)
class Plan:
    """What a rolling-origin evaluation runs and scores."""

    source: str  # the evaluation file
    scenario: str  # the scenario file (its measurement declaration names states and pairs)
    data: str  # a data file, or "" for the declaration's
    origins: tuple[int, ...]
    horizons: tuple[int, ...]
    pairs: tuple[tuple[str, str], ...]
    samples: int
    seed: int
    first_year: int
    forecasters: tuple[Forecaster, ...]
    intervals: tuple[float, ...]
    pit_bins: int
    reference: str
    block: int
    replicates: int


def _fail(src: str, field: str, message: str, found: Any = None, allowed: str | None = None):
    raise SimInputError(message, file=src, field=field, found=found, allowed=allowed)


def _int(table: Mapping[str, Any], key: str, src: str, where: str, low: int, high: int) -> int:
    v = table.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        _fail(src, f"{where}.{key}", "expected a whole number", v, f"{low} to {high}")
    return int(v)


def _span(table: Mapping[str, Any], key: str, src: str, low: int, high: int) -> tuple[int, ...]:
    v = table.get(key)
    ok = isinstance(v, list) and len(v) == 2 and all(type(x) is int for x in v)
    if not ok or not low <= v[0] <= v[1] <= high:
        _fail(src, f"evaluation.{key}", "expected [first, last] in order", v, f"{low} to {high}")
    return tuple(range(v[0], v[1] + 1))


def _path(base: Path, value: Any, src: str, field: str) -> str:
    if not isinstance(value, str):
        _fail(src, field, "expected a path (relative to the evaluation file)", value)
    if not value:
        return ""
    return str((base / value).resolve()) if not Path(value).is_absolute() else value


def _forecaster(name: str, raw: Any, src: str, base: Path) -> Forecaster:
    where = f"forecasters.{name}"
    if not isinstance(raw, Mapping):
        _fail(src, where, "expected a table")
    kind = raw.get("kind")
    if kind not in KINDS:
        _fail(src, f"{where}.kind", "unknown forecaster kind", kind, ", ".join(KINDS))
    extra = set(raw) - KEYS[kind]
    if extra:
        _fail(src, f"{where}.{sorted(extra)[0]}", "unknown key", None, ", ".join(KEYS[kind]))
    pooled = raw.get("pooled", False)
    if not isinstance(pooled, bool):
        _fail(src, f"{where}.pooled", "expected true or false", pooled)
    years = _int(raw, "years", src, where, 1, 50) if "years" in raw else 5
    runs = _int(raw, "runs", src, where, 1, 100_000) if "runs" in raw else 200
    calibration = _path(base, raw.get("calibration", ""), src, f"{where}.calibration")
    return Forecaster(name, kind, pooled, years, runs, calibration)


def load(path: str | Path) -> Plan:
    """Read and check an evaluation file."""
    path = Path(path)
    src = str(path)
    raw = read_toml(path)
    extra = set(raw) - {"evaluation", "scores", "forecasters"}
    if extra:
        _fail(src, sorted(extra)[0], "unknown table", None, "evaluation, scores, forecasters")
    ev, sc, fc = (raw.get(k) for k in ("evaluation", "scores", "forecasters"))
    for key, table in (("evaluation", ev), ("scores", sc), ("forecasters", fc)):
        if not isinstance(table, Mapping) or not table:
            _fail(src, key, "expected a table")
    for key, table, allowed in (("evaluation", ev, EVALUATION_KEYS), ("scores", sc, SCORE_KEYS)):
        unknown = set(table) - set(allowed)
        if unknown:
            _fail(src, f"{key}.{sorted(unknown)[0]}", "unknown key", None, ", ".join(allowed))
    if sc.get("crps", True) is not True:
        _fail(src, "scores.crps", "CRPS is always scored", sc.get("crps"), "true")
    base = path.parent
    scenario = _path(base, ev.get("scenario"), src, "evaluation.scenario")
    if not scenario or not Path(scenario).is_file():
        _fail(src, "evaluation.scenario", "scenario file not found", ev.get("scenario"))
    pairs_raw = ev.get("pairs")
    if not isinstance(pairs_raw, list) or not pairs_raw:
        _fail(src, "evaluation.pairs", "expected a list of pairs such as 'iran-russia'")
    pairs = []
    for p in pairs_raw:
        if not isinstance(p, str) or p.count("-") != 1:
            _fail(src, "evaluation.pairs", "expected 'actor-actor'", p)
        pairs.append(tuple(p.split("-")))
    intervals = sc.get("intervals")
    if not isinstance(intervals, list) or not all(
        isinstance(x, float) and 0 < x < 1 for x in intervals
    ):
        _fail(src, "scores.intervals", "expected central interval levels in (0, 1)", intervals)
    forecasters = tuple(_forecaster(n, r, src, base) for n, r in fc.items())
    reference = sc.get("reference")
    names = [f.name for f in forecasters]
    if reference != "best_naive" and reference not in names:
        _fail(src, "scores.reference", "unknown reference", reference, "best_naive or a name")
    return Plan(
        source=src,
        scenario=scenario,
        data=_path(base, ev.get("data", ""), src, "evaluation.data"),
        origins=_span(ev, "origins", src, 1946, 3000),
        horizons=_span(ev, "horizons", src, 1, 20),
        pairs=tuple(pairs),
        samples=_int(ev, "samples", src, "evaluation", 10, 1_000_000),
        seed=_int(ev, "seed", src, "evaluation", 0, 2**63 - 1),
        first_year=_int(ev, "first_year", src, "evaluation", 1946, 3000),
        forecasters=forecasters,
        intervals=tuple(intervals),
        pit_bins=_int(sc, "pit_bins", src, "scores", 2, 100),
        reference=reference,
        block=_int(sc, "block", src, "scores", 1, 100),
        replicates=_int(sc, "replicates", src, "scores", 10, 1_000_000),
    )
