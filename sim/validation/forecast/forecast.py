"""Sealed forecasts: questions about the future answered by the model, recorded so that they
can be checked once the answer is known.

A questions file (``forecasts/questions/<name>.toml``) names a scenario, a horizon, a seed,
a number of runs and its questions, each an observable in the model's terms
(`sim.validation.backtest.events`) with a ``resolution`` rule saying how the world will settle it.
`answer` runs the ensemble and gives each binary question a probability and each numeric one
its 5%, 25%, 50%, 75% and 95% quantiles. `seal` writes the answers with everything needed to
reproduce them (questions, scenario, evidence and posterior hashes, package version, git
commit, seed) to a JSON record and appends the record's SHA-256 to the ledger
(`sim.validation.forecast.ledger`); `verify` checks a record against the ledger and re-runs it.

Questions of kind ``unga_distance`` (UN General Assembly ideal-point distances) are answered
through a calibration's measurement model (`sim.validation.forecast.distances`), so they need a
calibration directory (``posterior``); the record then also holds the hashes of the
measurement declaration and of the data file, and `verify` checks them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import __version__
from sim.errors import SimInputError
from sim.results import claim, file_sha256, write_text
from sim.scenario import Scenario, calendar, files, load, read_toml, shipped
from sim.scenario.evidence import scenario_evidence
from sim.scenario.limits import (
    MAX_MONTHS,
    MAX_REPLICATES,
    MAX_SEED,
    check_count,
    check_run_months,
)
from sim.scenario.names import identifier, identifiers
from sim.validation.backtest import ensemble as ensemble_mod
from sim.validation.backtest.events import (
    QUESTION_KEYS,
    Observable,
    check_against,
    observable,
    values,
)
from sim.validation.forecast import distances
from sim.validation.forecast import ledger as ledger_mod

FORMAT = "sim-forecast-record"
FORMAT_VERSION = 1
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MEASURED = (distances.KIND,)  # kinds answered through a calibration's measurement model
META_KEYS = (
    "name",
    "scenario",
    "horizon",
    "replicates",
    "seed",
    "description",
    "forecaster",
    "until",
)
# Who answers: the agent-based model (runs of the scenario), or the measured core
# (`sim.validation.skill.core`, fitted to the data up to ``until``; measured questions only).
FORECASTERS = ("model", "core", "core_model")
# The inputs a record names by hash, checked again by `verify`.
HASHED = (
    "scenario_sha256",
    "evidence_sha256",
    "posterior_sha256",
    "measurement_sha256",
    "data_sha256",
)


@dataclass(frozen=True)
class Question:
    """A question: an observable with the rule that will resolve it in the world."""

    id: str
    resolution: str
    note: str
    observable: Observable | None  # None for a measured kind
    kind: str
    distance: distances.DistanceQuestion | None = None  # a measured kind's question


@dataclass(frozen=True)
class QuestionSet:
    """A questions file: scenario, horizon, seed, runs and questions."""

    name: str
    path: Path
    scenario: Path
    horizon: str
    replicates: int
    seed: int
    description: str
    questions: tuple[Question, ...]
    forecaster: str = "model"
    until: int | None = None  # the core's data cutoff


def load_questions(path: str | Path) -> QuestionSet:
    """Read and validate a questions file."""
    path = Path(path)
    src = str(path)
    doc = read_toml(path)

    def fail(field: str, message: str, found: Any = None, allowed: str | None = None):
        raise SimInputError(message, file=src, field=field, found=found, allowed=allowed)

    for key in doc:
        if key not in ("forecast", "questions"):
            fail(key, "unknown key", allowed="forecast, questions")
    meta = doc.get("forecast")
    if not isinstance(meta, Mapping):
        fail("forecast", "missing table", allowed="[forecast] with name, scenario, horizon")
    for key in meta:
        if key not in META_KEYS:
            fail(f"forecast.{key}", "unknown key", allowed=", ".join(META_KEYS))
    for key in ("name", "scenario", "horizon"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            fail(f"forecast.{key}", "expected a non-empty text", found=meta.get(key))
    # The name becomes the record's file name and a ledger field: a plain identifier.
    identifier(meta["name"], src, "forecast.name")
    try:
        calendar.parse(meta["horizon"])
    except ValueError:
        fail("forecast.horizon", "not a month", found=meta["horizon"], allowed=calendar.FORMAT)
    numbers = {}
    for key, low, high in (("replicates", 1, MAX_REPLICATES), ("seed", 0, MAX_SEED)):
        v = meta.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            fail(f"forecast.{key}", f"expected a whole number >= {low}", found=v)
        numbers[key] = check_count(v, f"forecast.{key}", low, high, file=src)
    forecaster = meta.get("forecaster", "model")
    if forecaster not in FORECASTERS:
        fail("forecast.forecaster", "unknown forecaster", forecaster, ", ".join(FORECASTERS))
    until = meta.get("until")
    if forecaster != "model" and (isinstance(until, bool) or not isinstance(until, int)):
        fail("forecast.until", "the core needs a data cutoff year", found=until)
    if forecaster == "model" and until is not None:
        fail("forecast.until", "only the core reads a cutoff here (a model's is its calibration)")
    table = doc.get("questions")
    if not isinstance(table, Mapping) or not table:
        fail("questions", "no questions", allowed="[questions.<id>] tables")
    identifiers(table, src, "questions")
    questions = []
    for qid, q in table.items():
        field = f"questions.{qid}"
        if not isinstance(q, Mapping):
            fail(field, "expected a table", found=q)
        resolution = q.get("resolution")
        if not isinstance(resolution, str) or not resolution.strip():
            fail(f"{field}.resolution", "every question needs a resolution rule", found=resolution)
        kind = q.get("kind")
        obs = dist = None
        if kind in MEASURED:
            dist = distances.parse(qid, q, src, field)
        else:
            obs = observable(qid, q, src, field, QUESTION_KEYS)
        note = str(q.get("note", "")).strip()
        questions.append(Question(qid, resolution.strip(), note, obs, str(kind), dist))
    return QuestionSet(
        name=meta["name"],
        path=path,
        scenario=(path.parent / meta["scenario"]).resolve(),
        horizon=meta["horizon"],
        description=str(meta.get("description", "")).strip(),
        questions=tuple(questions),
        forecaster=forecaster,
        until=until,
        **numbers,
    )


# --------------------------------------------------------------------------------------------
# Hashes and provenance


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


def scenario_sha256(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario (its base files included, through ``extends``)."""
    return hashlib.sha256(_canonical(scenario.raw)).hexdigest()


def evidence_sha256(scenario_path: str | Path) -> str:
    """SHA-256 of the evidence entries the parameter draws use (names, values, ranges)."""
    rows = [(e.name, e.value, e.low, e.high) for e in scenario_evidence(scenario_path)]
    return hashlib.sha256(_canonical(rows)).hexdigest()


def git_state(where: Path | None = None) -> dict[str, Any]:
    """The git commit of the checkout holding this package, and whether tracked files differ
    from it ("unknown" outside a git checkout).
    """
    where = where or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


# --------------------------------------------------------------------------------------------
# Answering


def answer(qs: QuestionSet, posterior: str | Path | None = None) -> dict[str, Any]:
    """Run the ensemble and answer every question: the body of a forecast record."""
    if qs.forecaster != "model":
        if posterior is not None:
            raise SimInputError(
                "the core reads no calibration", file=str(qs.path), field="forecast.forecaster"
            )
        return core_answer(qs)
    measured = [q for q in qs.questions if q.distance is not None]
    if measured and posterior is None:
        raise SimInputError(
            "needs a calibration (--posterior DIR): UN General Assembly distances are read "
            "through its measurement model",
            file=str(qs.path),
            field=f"questions.{measured[0].id}",
        )
    sc = load(qs.scenario)
    months = calendar.month_of(qs.horizon, sc.start)
    if months < 1:
        raise SimInputError(
            "before the scenario's start", file=str(qs.path), field="forecast.horizon"
        )
    # Sizes before any work: the horizon against the cap on months, and replicates x months
    # against what is held in memory at once.
    check_count(
        months, "forecast.horizon (months from the scenario's start)", 1, MAX_MONTHS,
        file=str(qs.path), why="the cap on a scenario's horizon",
    )  # fmt: skip
    check_run_months(qs.replicates, months, "forecast.replicates", str(qs.path))
    source = "posterior" if posterior is not None else "evidence"
    ens = ensemble_mod.build(qs.scenario, qs.replicates, qs.seed, months, source, posterior)
    model = distances.prepare(ens.post, str(qs.scenario), sc) if measured else None
    for q in measured:
        distances.check(q.distance, model, months, sc.start, str(qs.path))
    for q in qs.questions:
        if q.observable is not None:
            check_against(q.observable, ens.params, months, str(qs.path))
    measured_values = {}
    if measured:
        measured_values = distances.values(
            [q.distance for q in measured],
            model,
            ens.traj,
            ens.params.actors,
            ens.post.draw_measurement(ens.runs, ens.seed),
            ens.seed,
        )
    answers = []
    for q in qs.questions:
        if q.distance is not None:
            months = list(distances.session_months(q.distance, model))
            answers.append(_measured_answer(q, months, measured_values[q.id], ens.weights))
            continue
        v = values(q.observable, ens.traj, ens.params)
        item = {
            "id": q.id,
            "label": q.observable.label,
            "kind": q.kind,
            "window": list(q.observable.window),
            "definition": q.observable.definition,
            "resolution": q.resolution,
            "note": q.note,
        }
        if q.observable.binary:
            item["type"] = "binary"
            item["probability"] = float(np.sum(ens.weights * v))
        else:
            item.update(_numeric(v, ens.weights))
        answers.append(item)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": qs.name,
        "description": qs.description,
        "questions_file": Path(os.path.relpath(qs.path)).as_posix(),
        "questions_sha256": file_sha256(qs.path),
        "scenario_file": Path(os.path.relpath(qs.scenario)).as_posix(),
        "scenario_name": sc.name,
        "scenario_sha256": scenario_sha256(sc),
        "evidence_sha256": evidence_sha256(qs.scenario),
        "posterior": ens.posterior,
        "posterior_sha256": ens.posterior_sha256,
        "measurement": model.describe() if model else None,
        "measurement_sha256": model.declaration_sha256 if model else None,
        "data_sha256": model.data_sha256 if model else None,
        "parameters": ens.describe(),
        "horizon": qs.horizon,
        "months": months,
        "replicates": qs.replicates,
        "seed": qs.seed,
        "answers": answers,
    }


def core_answer(qs: QuestionSet) -> dict[str, Any]:
    """Answer measured questions with the core fitted to the sessions up to ``qs.until``.

    Ex ante by construction: the core reads the data, never a scenario's drivers (the scenario
    only names, through its measurement declaration, which states stand for each actor).
    """
    from sim.validation.data import measurement as ms
    from sim.validation.data import unga
    from sim.validation.skill import core

    sc = load(qs.scenario)
    decl = ms.load_declaration(qs.scenario, sc.actor_ids)
    data = unga.load(qs.until, decl.data_path())
    fit = core.fit(data, decl.states, min(data.years))
    extra: dict[str, Any] = {}
    drift = None
    if qs.forecaster == "core_model":
        drift, extra = _model_drift(qs, sc, decl, min(data.years))
    answers = []
    for q in qs.questions:
        field = f"questions.{q.id}"
        d = q.distance
        if d is None:
            raise SimInputError(
                "the core answers measured questions only",
                file=str(qs.path),
                field=f"{field}.kind",
                allowed=", ".join(MEASURED),
            )
        pair = d.pair if d.pair in decl.pairs else d.pair[::-1]
        if pair not in decl.pairs:
            raise SimInputError("not a measured pair", file=str(qs.path), field=f"{field}.pair")
        if d.year <= qs.until:
            raise SimInputError(
                "the core saw this session: nothing to forecast",
                file=str(qs.path),
                field=f"{field}.year",
                allowed=f"years after {qs.until}",
            )
        v = fit.distances([pair], d.year - qs.until, qs.replicates, qs.seed)[0]
        if drift is not None:
            v = v + drift(pair, d.year)
        first, last = decl.session_months
        months = [f"{d.year:04d}-{first:02d}", f"{d.year:04d}-{last:02d}"]
        answers.append(_measured_answer(q, months, v, np.full(len(v), 1.0 / len(v))))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": qs.name,
        "description": qs.description,
        "forecaster": qs.forecaster,
        "until": qs.until,
        "questions_file": Path(os.path.relpath(qs.path)).as_posix(),
        "questions_sha256": file_sha256(qs.path),
        "scenario_file": Path(os.path.relpath(qs.scenario)).as_posix(),
        "scenario_name": sc.name,
        # The core alone reads no scenario rule or driver; core plus model runs the scenario.
        "scenario_sha256": scenario_sha256(sc) if drift else None,
        "evidence_sha256": evidence_sha256(qs.scenario) if drift else None,
        "posterior": None,
        "posterior_sha256": None,
        "measurement": None,
        "measurement_sha256": file_sha256(decl.source),
        "data_sha256": data.sha256,
        "parameters": "the core: local levels per state, GCC pooled to a bloc level, fitted "
        f"by maximum likelihood to sessions {min(data.years)}-{qs.until}",
        "core_parameters": {k: float(f"{v:.6g}") for k, v in fit.params.items()},
        **extra,
        "horizon": qs.horizon,
        "months": None,
        "replicates": qs.replicates,
        "seed": qs.seed,
        "answers": answers,
    }


def _model_drift(qs: QuestionSet, sc: Scenario, decl, first_year: int):
    """The model's drift for core-plus-model answers, ex ante: the scenario's regime changes
    dated after the cutoff's last month are dropped (those known at the cutoff stay in force),
    the model is run, and the coefficient is estimated from the core's errors at the earlier
    origins (`sim.validation.skill.evaluate.coefficient_at`), all from data up to the cutoff.
    """
    from dataclasses import replace

    from sim.validation.data import measurement as ms
    from sim.validation.data import unga
    from sim.validation.skill import covariate, evaluate

    last = calendar.month_of(f"{qs.until:04d}-12", sc.start)
    dropped = [r.id for r in sc.regimes if r.month > last]
    ex_ante = replace(sc, regimes=tuple(r for r in sc.regimes if r.month <= last))
    path = str(decl.data_path())
    priors = ms.priors(decl, unga.load(decl.anchor[1], path))
    years = range(first_year, max(q.distance.year for q in qs.questions if q.distance) + 1)
    sim = covariate.simulate(ex_ante, decl, years, qs.replicates, qs.seed, priors)
    horizons = tuple(range(1, 5))
    coef = evaluate.coefficient_at(
        qs.until, decl, path, sim, first_year, horizons, qs.replicates, qs.seed
    )
    lo, hi = coef.interval()

    def drift(pair: tuple[str, str], year: int) -> float:
        return coef.beta * float(sim.drift(qs.until, year)[decl.pairs.index(pair)])

    extra = {
        "ex_ante": f"regime changes dated after {qs.until}-12 dropped: "
        + (", ".join(dropped) or "none"),
        "coefficient": {
            "beta": float(f"{coef.beta:.6g}"),
            "low90": float(f"{lo:.6g}"),
            "high90": float(f"{hi:.6g}"),
            "n": coef.n,
            "horizons": list(horizons),
        },
    }
    return drift, extra


def _numeric(v: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    """A numeric answer: its mean and quantiles over the runs."""
    return {
        "type": "numeric",
        "mean": float(np.sum(weights * v)),
        "quantiles": {f"{p:g}": float(np.quantile(v, p)) for p in QUANTILES},
    }


def _measured_answer(
    q: Question, session_months: list[str], v: np.ndarray, weights: np.ndarray
) -> dict[str, Any]:
    """A measured question's answer: what it asks, the sessions it reads, its numbers."""
    d = q.distance
    return {
        "id": q.id,
        "label": d.label,
        "kind": q.kind,
        "window": list(d.window),
        "definition": d.definition,
        "resolution": q.resolution,
        "note": q.note,
        "pair": list(d.pair),
        "year": d.year,
        "session_months": session_months,
        **_numeric(v, weights),
    }


def seal(
    qs: QuestionSet,
    ledger: str | Path,
    sealed_at: str,
    posterior: str | Path | None = None,
) -> tuple[Path, ledger_mod.Row]:
    """Answer the questions, write the record beside the ledger and append it to the ledger.

    The record goes to ``<ledger folder>/records/<name>.json``. A record is sealed when its row
    is in the ledger; a sealed record is never replaced (seal again under another name).
    Sealing is crash-consistent, under the ledger's lock (`sim.results.claim`): the record is
    written atomically first, then its row is appended atomically. Killed in between, it
    leaves a record without a row: not sealed, reported so by `verify`, and replaced by the
    next ``--seal`` of the same questions (the one repair, docs/backtest.md).
    """
    ledger = Path(ledger)
    name = identifier(qs.name, str(qs.path), "forecast.name")  # also for callers from Python
    out = ledger.parent / "records" / f"{name}.json"
    _refuse_sealed(out, ledger)
    record = answer(qs, posterior)
    # Paths relative to the record, so a checkout anywhere can verify it.
    record["questions_file"] = _relative(qs.path, out.parent)
    record["scenario_file"] = _relative(qs.scenario, out.parent)
    if posterior is not None:
        record["posterior"] = _relative(posterior, out.parent)
    if record["measurement"] is not None:
        measurement = record["measurement"]
        measurement["declaration"] = _relative(measurement["declaration"], out.parent)
    record.update(
        {
            "sealed_at": sealed_at,
            "sim_version": __version__,
            "git": git_state(),
            "versions": _versions(),
        }
    )
    text = json.dumps(record, indent=2, sort_keys=False) + "\n"
    with claim(ledger):
        _refuse_sealed(out, ledger)  # again, under the lock: another seal may have won
        out.parent.mkdir(parents=True, exist_ok=True)
        for left in out.parent.glob(f".{out.name}.*.tmp"):  # a killed seal's temporary
            left.unlink(missing_ok=True)
        write_text(text, out)
        row = ledger_mod.append(ledger, out, sealed_at)
    return out, row


def _refuse_sealed(out: Path, ledger: Path) -> None:
    """Refuse to seal over a record the ledger already holds (a record without a row was
    left by an interrupted seal and is not sealed: it is replaced).
    """
    if any(r.record == ledger_mod.relative(out, ledger) for r in ledger_mod.rows(ledger)):
        raise SimInputError(
            "a record of this name is already sealed; sealed records are never replaced",
            file=str(out),
            allowed="another [forecast] name",
        )
    if out.is_symlink() or (out.exists() and not out.is_file()):
        raise SimInputError("exists and is not a record file; sim never writes through it",
                            file=str(out))  # fmt: skip


def _relative(path: str | Path, folder: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()


def _versions() -> dict[str, str]:
    from sim.results import versions

    return versions()


# --------------------------------------------------------------------------------------------
# Verifying

# What `verify` reads from a record, and the type each must have.
RECORD_KEYS = {
    "questions_file": str,
    "questions_sha256": str,
    "answers": list,
}


def read_record(path: Path) -> dict[str, Any]:
    """A sealed record read through the bounded reader, checked to carry what `verify` uses."""
    where = str(path)
    try:
        record = json.loads(files.read_text(path, (".json",)))
    except (ValueError, RecursionError) as exc:
        raise SimInputError(f"not a readable forecast record ({exc})", file=where) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise SimInputError("not a forecast record", file=where, field="format", allowed=FORMAT)
    for key, kind in RECORD_KEYS.items():
        if not isinstance(record.get(key), kind):
            raise SimInputError(
                "missing or of the wrong type",
                file=where,
                field=key,
                allowed=f"a {kind.__name__}, as `sim forecast --seal` writes it",
            )
    if not isinstance(record.get("posterior"), (str, type(None))):
        raise SimInputError("expected a relative path or null", file=where, field="posterior")
    return record


@dataclass(frozen=True)
class Check:
    """One verification step: its name, whether it passed and what was found."""

    name: str
    passed: bool
    detail: str


def verify(record_path: str | Path, ledger: str | Path) -> list[Check]:
    """Check a sealed record: its bytes against the ledger, its inputs against their hashes,
    and its answers against a re-run with the recorded seed and runs.
    """
    record_path = Path(record_path)
    ok, why = ledger_mod.check(ledger, record_path)
    checks = [Check("ledger", ok, why)]
    record = read_record(record_path)
    # Files a record names resolve only inside the project the ledger belongs to (the folder
    # holding the ledger's folder) or the shipped files: never an absolute path, never out.
    roots = (Path(ledger).resolve().parent.parent, shipped.root())
    where = str(record_path)
    questions = files.inside(
        record["questions_file"], record_path.parent, roots, file=where, field="questions_file"
    )
    posterior = record.get("posterior")
    if posterior is not None:
        posterior = files.inside(
            posterior, record_path.parent, roots, file=where, field="posterior"
        )
    if not questions.exists():
        checks.append(Check("questions", False, f"{questions} is missing"))
        return checks
    same = file_sha256(questions) == record["questions_sha256"]
    checks.append(Check("questions", same, f"{questions} {'unchanged' if same else 'changed'}"))
    qs = load_questions(questions)
    again = answer(qs, posterior)
    for key in HASHED:
        if again.get(key) is None and record.get(key) is None:
            continue  # e.g. no posterior, or a record without measured questions
        same = again.get(key) == record.get(key)
        checks.append(Check(key.removesuffix("_sha256"), same, "unchanged" if same else "changed"))
    differ = [a["id"] for a, b in zip(again["answers"], record["answers"], strict=False) if a != b]
    if len(again["answers"]) != len(record["answers"]):
        differ.append("(number of questions)")
    note = f"re-run with seed {qs.seed}, {qs.replicates} runs"
    if differ:
        checks.append(Check("reproduces", False, f"{note}: answers differ for {', '.join(differ)}"))
    else:
        checks.append(Check("reproduces", True, f"{note}: every answer identical"))
    return checks
