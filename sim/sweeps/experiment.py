"""Experiment files: which scenario, which parameters to vary, which design, how many runs.

An experiment is a TOML file (see docs/sweeps.md)::

    [experiment]
    name = "betrayal_sweep"
    scenario = "../scenarios/baseline.toml"   # relative to this file, the shipped files or cwd
    seed = 2015
    replicates = 20
    months = 120                              # default: the scenario's horizon

    [design]
    method = "lhs"                            # grid | lhs | sobol | morris
    points = 64                               # lhs points; sobol/morris base N
    levels = 4                                # grid levels per parameter; morris grid levels

    [parameters]
    "events.western_offer.hazard" = { low = 0.005, high = 0.08 }
    "actors.iran.memory" = { range = "evidence" }

    [output]
    trajectories = "quantiles"                # none | sample | quantiles
    sample = 3                                # replicates per point kept when "sample"

Loading validates everything and raises `SimInputError` naming the file and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.model.params import compile_params
from sim.scenario import Scenario, load, read_toml, shipped
from sim.scenario.limits import (
    MAX_DESIGN_POINTS,
    MAX_MONTHS,
    MAX_REPLICATES,
    MAX_SEED,
    check_run_months,
    integer_range,
)
from sim.scenario.names import IDENTIFIER_TEXT, identifier, is_identifier
from sim.sweeps import design as designs

DESIGNS = ("grid", "lhs", "sobol", "morris")
TRAJECTORIES = ("none", "sample", "quantiles")
TOP_KEYS = ("experiment", "design", "parameters", "output")


@dataclass(frozen=True)
class Parameter:
    """A swept parameter: its dotted scenario name and the range it is varied over."""

    name: str
    low: float
    high: float
    integer: bool = False  # event months and other counts: sampled values are rounded
    source: str = "explicit"  # "explicit" (low/high in the file) or "evidence"

    def record(self) -> dict[str, Any]:
        """Plain-data form for metadata."""
        return {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "integer": self.integer,
            "source": self.source,
        }


@dataclass(frozen=True)
class Experiment:
    """A validated experiment, with every range resolved to numbers."""

    name: str
    source: str
    scenario_path: Path
    scenario: Scenario
    parameters: tuple[Parameter, ...]
    design: str
    points: int  # lhs: number of points; sobol/morris: SALib base N; grid: unused
    levels: int  # grid: levels per parameter; morris: grid levels
    second_order: bool  # sobol: also sample for second-order indices
    replicates: int
    months: int
    seed: int
    trajectories: str
    sample: int  # replicates per point whose full series are kept (trajectories = "sample")

    @property
    def names(self) -> tuple[str, ...]:
        """The swept parameters' dotted names, in file order."""
        return tuple(p.name for p in self.parameters)

    def resolved(self) -> dict[str, Any]:
        """Everything that determines the results, as plain data (stored in metadata)."""
        return {
            "name": self.name,
            "source": self.source,
            "scenario": str(self.scenario_path),
            "design": self.design,
            "points": self.points,
            "levels": self.levels,
            "second_order": self.second_order,
            "replicates": self.replicates,
            "months": self.months,
            "seed": self.seed,
            "trajectories": self.trajectories,
            "sample": self.sample,
            "parameters": [p.record() for p in self.parameters],
        }

    def fingerprint(self) -> str:
        """A hash of what determines the results (design, ranges, sizes, seed, scenario)."""
        doc = self.resolved()
        doc.pop("source")
        doc.pop("scenario")
        doc["scenario_content"] = self.scenario.raw
        text = json.dumps(doc, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def shrink(
    exp: Experiment,
    *,
    points: int | None = None,
    levels: int | None = None,
    replicates: int | None = None,
    months: int | None = None,
) -> Experiment:
    """A smaller copy of an experiment (for tests and quick looks)."""
    return replace(
        exp,
        points=exp.points if points is None else points,
        levels=exp.levels if levels is None else levels,
        replicates=exp.replicates if replicates is None else replicates,
        months=exp.months if months is None else months,
        sample=min(exp.sample, exp.replicates if replicates is None else replicates),
    )


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file."""
    path = Path(path)
    return from_dict(read_toml(path), path)


def from_dict(doc: Mapping[str, Any], path: Path) -> Experiment:
    """Validate an experiment document read from ``path``."""
    f = str(path)
    _keys(doc, f, "", TOP_KEYS)
    meta = _table(doc, f, "experiment")
    _keys(
        meta, f, "experiment", ("name", "description", "scenario", "seed", "replicates", "months")
    )
    design = _table(doc, f, "design")
    _keys(design, f, "design", ("method", "points", "levels", "second_order"))
    output = _table(doc, f, "output", required=False)
    _keys(output, f, "output", ("trajectories", "sample"))

    # The name becomes the default results directory, results/<name>.
    if "name" in meta:
        name = identifier(meta["name"], f, "experiment.name")
    elif is_identifier(path.stem):
        name = path.stem
    else:
        raise SimInputError(
            "the file name is not a plain identifier; set experiment.name",
            file=f,
            field="experiment.name",
            found=path.stem,
            allowed=IDENTIFIER_TEXT,
        )
    scenario_path = _scenario_path(meta, path)
    try:
        scenario = load(scenario_path)
    except SimInputError as exc:
        # name the experiment's own field first: that is what the user wrote
        raise SimInputError(
            f"the scenario it names is refused: {exc}", file=str(path), field="experiment.scenario"
        ) from None
    method = design.get("method")
    if method not in DESIGNS:
        raise SimInputError(
            "unknown design",
            file=f,
            field="design.method",
            found=method,
            allowed=", ".join(DESIGNS),
        )
    points = _int(
        design,
        f,
        "design.points",
        "points",
        1,
        MAX_DESIGN_POINTS,
        default=0 if method == "grid" else None,
    )
    levels = _int(design, f, "design.levels", "levels", 2, MAX_DESIGN_POINTS, default=4)
    second = design.get("second_order", False)
    if not isinstance(second, bool):
        raise SimInputError(
            "expected true or false", file=f, field="design.second_order", found=second
        )
    if method == "sobol" and points & (points - 1):
        raise SimInputError(
            "Saltelli sampling needs a power of two",
            file=f,
            field="design.points",
            found=points,
            allowed="1, 2, 4, 8, ... (SALib base N)",
        )
    traj = output.get("trajectories", "none")
    if traj not in TRAJECTORIES:
        raise SimInputError(
            "unknown trajectories option",
            file=f,
            field="output.trajectories",
            found=traj,
            allowed=", ".join(TRAJECTORIES),
        )
    replicates = _int(meta, f, "experiment.replicates", "replicates", 1, MAX_REPLICATES)
    months = _int(meta, f, "experiment.months", "months", 1, MAX_MONTHS, default=scenario.months)
    # a chunk holds whole design points, so one point's runs must fit in memory
    check_run_months(replicates, months, "experiment.replicates", f)
    parameters = _parameters(doc, f, scenario, scenario_path)
    n_points = designs.size(method, len(parameters), points, levels, second)
    if n_points > MAX_DESIGN_POINTS:
        raise SimInputError(
            f"the design has {n_points:,} points, above the limit of {MAX_DESIGN_POINTS:,}",
            file=f,
            field="design.levels" if method == "grid" else "design.points",
            allowed="fewer points, levels or parameters",
        )
    exp = Experiment(
        name=name,
        source=f,
        scenario_path=scenario_path,
        scenario=scenario,
        parameters=parameters,
        design=method,
        points=points,
        levels=levels,
        second_order=second,
        replicates=replicates,
        months=months,
        seed=_int(meta, f, "experiment.seed", "seed", 0, MAX_SEED),
        trajectories=traj,
        sample=min(
            _int(output, f, "output.sample", "sample", 1, MAX_REPLICATES, default=3), replicates
        ),
    )
    return exp


# --------------------------------------------------------------------------------------------


def _table(doc: Mapping, f: str, key: str, required: bool = True) -> Mapping[str, Any]:
    value = doc.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise SimInputError("expected a table", file=f, field=key, found=value)
    return value


def _keys(doc: Mapping, f: str, field: str, allowed: tuple[str, ...]) -> None:
    for key in doc:
        if key not in allowed:
            where = f"{field}.{key}" if field else key
            raise SimInputError("unknown key", file=f, field=where, allowed=", ".join(allowed))


def _int(
    doc: Mapping,
    f: str,
    field: str,
    key: str,
    low: int,
    high: int,
    default: int | None = None,
) -> int:
    """An integer in [low, high]; a whole float such as ``1e6`` counts as one."""
    allowed = integer_range(low, high)
    if key not in doc:
        if default is None:
            raise SimInputError("required", file=f, field=field, allowed=allowed)
        return default
    value = doc[key]
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        raise SimInputError(
            "expected an integer", file=f, field=field, found=value, allowed=allowed
        )
    if not low <= value <= high:
        limit = "above the limit" if value > high else "below the minimum"
        raise SimInputError(limit, file=f, field=field, found=value, allowed=allowed)
    return int(value)


def _scenario_path(meta: Mapping, path: Path) -> Path:
    value = meta.get("scenario")
    if not isinstance(value, str) or not value:
        raise SimInputError(
            "expected a scenario file name",
            file=str(path),
            field="experiment.scenario",
            found=value,
            allowed="a path relative to the experiment file or the shipped files",
        )
    # The shipped root lets "scenarios/baseline.toml" name the shipped baseline from anywhere,
    # in a checkout and in an installed wheel alike.
    for base in (path.resolve().parent, shipped.root(), Path.cwd()):
        candidate = (base / value).resolve()
        if candidate.exists():  # a device or folder is then refused by the bounded reader
            return candidate
    raise SimInputError(
        "scenario file not found (relative to the experiment file or the shipped files)",
        file=str(path),
        field="experiment.scenario",
        found=value,
    )


def _parameters(
    doc: Mapping, f: str, scenario: Scenario, scenario_path: Path
) -> tuple[Parameter, ...]:
    table = _table(doc, f, "parameters")
    if not table:
        raise SimInputError("list at least one parameter to vary", file=f, field="parameters")
    known = scenario.parameters()
    compiled = compile_params(scenario)
    locate = compiled.locate
    evidence: dict[str, tuple[float, float]] | None = None
    out = []
    for name, spec in table.items():
        field = f'parameters."{name}"'
        if name not in known or name not in locate:
            close = [k for k in known if k.split(".")[-1] == name.split(".")[-1]][:3]
            raise SimInputError(
                "unknown or non-sweepable parameter",
                file=f,
                field=field,
                found=name,
                allowed=", ".join(close)
                if close
                else "a dotted name from `sim run --list-parameters`",
            )
        if not isinstance(spec, Mapping):
            raise SimInputError(
                "expected a table",
                file=f,
                field=field,
                found=spec,
                allowed="{ low = .., high = .. }",
            )
        _keys(spec, f, field, ("low", "high", "range"))
        integer = getattr(compiled, locate[name][0]).dtype.kind in "iu"
        if "range" in spec:
            if spec["range"] != "evidence" or "low" in spec or "high" in spec:
                raise SimInputError(
                    'expected range = "evidence" alone',
                    file=f,
                    field=f"{field}.range",
                    found=spec["range"],
                    allowed='"evidence" (without low/high)',
                )
            if evidence is None:
                evidence = _evidence(scenario_path, f)
            if name not in evidence:
                raise SimInputError(
                    "the evidence gives no range for this parameter; give low and high",
                    file=f,
                    field=f"{field}.range",
                    found="evidence",
                )
            low, high = (float(v) for v in evidence[name])
            source = "evidence"
        else:
            low, high = (_number(spec, f, field, k) for k in ("low", "high"))
            source = "explicit"
        if not low < high:
            raise SimInputError(
                "low must be below high",
                file=f,
                field=field,
                found=[low, high],
                allowed="low < high",
            )
        if integer and not (float(low).is_integer() and float(high).is_integer()):
            raise SimInputError(
                "integer parameter needs integer bounds", file=f, field=field, found=[low, high]
            )
        _check_bounds(scenario, name, low, high, integer, f, field)
        out.append(Parameter(name, float(low), float(high), integer, source))
    return tuple(out)


def _number(spec: Mapping, f: str, field: str, key: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimInputError("expected a number", file=f, field=f"{field}.{key}", found=value)
    return float(value)


def _check_bounds(
    scenario: Scenario, name: str, low: float, high: float, integer: bool, f: str, field: str
) -> None:
    """Both ends must make a valid scenario (the scenario's own checks say what is allowed)."""
    for value in (low, high):
        try:
            scenario.with_overrides({name: int(value) if integer else value})
        except SimInputError as exc:
            raise SimInputError(
                f"range end is not a valid value ({exc.detail})",
                file=f,
                field=field,
                found=value,
                allowed=exc.allowed,
            ) from None


def _evidence(scenario_path: Path, f: str) -> dict[str, tuple[float, float]]:
    try:
        from sim.scenario.evidence import evidence_ranges
    except ImportError:
        raise SimInputError(
            'range = "evidence" needs the evidence table (sim.evidence), which is not available',
            file=f,
            field="parameters",
            allowed="explicit low and high",
        ) from None
    return dict(evidence_ranges(scenario_path))
