"""Forecasts of UN General Assembly ideal-point distances through a calibration's measurement
model.

A question of kind ``unga_distance`` names a pair of actors and a session year: how far apart
the two actors' ideal points will stand in that year's session. A calibration directory
(`sim calibrate`) holds both what answers it: the posterior of the scenario's parameters and
of the measurement model's (`sim.validation.data.measurement`), particle by particle. Run r of the
forecast ensemble takes one particle (`Posterior.draw` and `Posterior.draw_measurement` give
the same particle to the same run), simulates the pair's alignment and reads the session's
distance through that particle's measurement model::

    distance = max(0, anchor + offset + scale * (a0 - a(year)) + sqrt(noise^2 + sd^2) * z)

``anchor`` is the pair's mean distance over the anchor sessions and ``a0`` its initial
alignment, as in the calibration; ``a(year)`` the simulated alignment averaged over the
session's months; ``sd`` the pair's mean measurement standard deviation over the sessions the
calibration observed (a future session's own is not known yet); ``z`` a standard normal from
the run's counter-based stream (seed, `STREAM`, run) at slot (year, pair), so a question's
answer does not depend on which other questions are asked. The quantiles over the runs thus
include the posterior's parameter uncertainty, the model's randomness and the measurement
error. A distance is never negative: draws below zero count as zero.

The measurement model must be the one calibrated: the declaration must still say what the
calibration's metadata recorded and the data file must still have its hash; only sessions after
the calibration's cutoff are asked about (earlier ones were fitted, not forecast).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtri

from sim.errors import SimInputError
from sim.model import rng
from sim.model.engine import Trajectory
from sim.results import file_sha256
from sim.scenario import Scenario, calendar
from sim.validation.calibration.posterior import Posterior, read_metadata
from sim.validation.data import measurement as ms
from sim.validation.data import unga

KIND = "unga_distance"
KEYS = ("label", "kind", "definition", "window", "resolution", "note", "pair", "year")
STREAM = 0xD157  # the 'point' index of the measurement errors' streams, apart from any run's


@dataclass(frozen=True)
class DistanceQuestion:
    """A pair's ideal-point distance in one session year."""

    id: str
    label: str
    window: tuple[str, str]
    definition: str
    pair: tuple[str, str]
    year: int


def _fail(src: str, field: str, message: str, found: Any = None, allowed: str | None = None):
    raise SimInputError(message, file=src, field=field, found=found, allowed=allowed)


def parse(qid: str, doc: Mapping[str, Any], src: str, field: str) -> DistanceQuestion:
    """Validate one ``unga_distance`` question table (its resolution is checked by the caller)."""
    for key in doc:
        if key not in KEYS:
            _fail(src, f"{field}.{key}", "unknown key", allowed=", ".join(KEYS))
    texts = {}
    for key in ("label", "definition"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            _fail(src, f"{field}.{key}", "expected a non-empty text", found=value)
        texts[key] = value.strip()
    pair = doc.get("pair")
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(a, str) for a in pair)
        or pair[0] == pair[1]
    ):
        _fail(src, f"{field}.pair", "expected two different actors", found=pair)
    year = doc.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1946 <= year <= 3000:
        _fail(src, f"{field}.year", "expected a session year", found=year, allowed="1946 to 3000")
    window = doc.get("window")
    if not isinstance(window, list) or len(window) != 2:
        _fail(src, f"{field}.window", "expected [first month, last month]", found=window)
    for month in window:
        try:
            calendar.parse(month)
        except ValueError:
            _fail(src, f"{field}.window", "not a month", found=month, allowed=calendar.FORMAT)
    if calendar.month_of(window[1], window[0]) < 1:
        _fail(src, f"{field}.window", "ends before it starts", found=window)
    return DistanceQuestion(
        id=qid,
        label=texts["label"],
        window=(window[0], window[1]),
        definition=texts["definition"],
        pair=(pair[0], pair[1]),
        year=year,
    )


@dataclass(frozen=True)
class Model:
    """A calibration's measurement model, ready to read simulated alignment as distances."""

    declaration: ms.Measurement
    observed: ms.Observed  # anchor distances and the observed sessions' sd, up to the cutoff
    until: int  # the calibration's data cutoff
    declaration_sha256: str
    data_sha256: str

    @property
    def sd(self) -> np.ndarray:
        """Per pair, the measurement sd assumed for a future session: the mean over the
        sessions the calibration observed.
        """
        return self.observed.sd.mean(axis=1)

    def describe(self) -> dict[str, Any]:
        """What a forecast record says about the measurement model."""
        d = self.declaration
        return {
            "declaration": Path(os.path.relpath(d.source)).as_posix(),
            "states": {a: list(s) for a, s in d.states.items()},
            "anchor": list(d.anchor),
            "session_months": list(d.session_months),
            "data_until": self.until,
            "anchor_distance": {
                f"{a}-{b}": float(x)
                for (a, b), x in zip(d.pairs, self.observed.anchor, strict=True)
            },
            "future_sd": {f"{a}-{b}": float(x) for (a, b), x in zip(d.pairs, self.sd, strict=True)},
            "sd_from_years": list(self.observed.years),
            "formula": "max(0, anchor + offset + scale * (a0 - a(year)) + "
            "sqrt(noise^2 + sd^2) * z), offset, scale and noise from the run's particle",
        }


def prepare(post: Posterior, scenario_path: str, scenario: Scenario) -> Model:
    """The measurement model of ``post``'s calibration for a scenario (its own or one that
    extends it), refused when it is not the one that was calibrated.
    """
    missing = [n for n in ms.PARAMETERS if n not in post.measurement_names]
    if missing:
        _fail(
            post.path,
            "parameters_calibrated",
            "the calibration has no measurement model",
            found=missing[0],
        )
    meta = read_metadata(post.path)
    decl = ms.load_declaration(scenario_path, scenario.actor_ids)
    recorded = meta.get("measurement") or {}
    now = {
        "states": {a: list(s) for a, s in decl.states.items()},
        "pairs": [list(p) for p in decl.pairs],
        "anchor": list(decl.anchor),
        "session_months": list(decl.session_months),
    }
    for key, value in now.items():
        if key in recorded and recorded[key] != value:
            _fail(
                decl.source,
                key,
                "the measurement declaration changed since the calibration",
                found=value,
                allowed=f"{recorded[key]} ({post.path})",
            )
    data = unga.load(post.until, decl.data_path())
    recorded_sha = (meta.get("data") or {}).get("sha256")
    if recorded_sha and data.sha256 != recorded_sha:
        _fail(
            data.source,
            "sha256",
            "the data file changed since the calibration",
            found=data.sha256[:16],
            allowed=f"{recorded_sha[:16]} ({post.path})",
        )
    return Model(
        declaration=decl,
        observed=ms.observe(decl, data, scenario.start),
        until=post.until,
        declaration_sha256=file_sha256(decl.source),
        data_sha256=data.sha256,
    )


def check(q: DistanceQuestion, model: Model, months: int, start: str, src: str) -> None:
    """Refuse a question about a pair the model does not measure, a session the calibration
    saw, or one outside the question's window or the simulated months.
    """
    field = f"questions.{q.id}"
    pairs = model.declaration.pairs
    if q.pair not in pairs and q.pair[::-1] not in pairs:
        _fail(
            src,
            f"{field}.pair",
            "not a measured pair",
            found=list(q.pair),
            allowed=", ".join(f"{a}-{b}" for a, b in pairs),
        )
    if q.year <= model.until:
        _fail(
            src,
            f"{field}.year",
            "the calibration saw this session: nothing to forecast",
            found=q.year,
            allowed=f"years after {model.until}",
        )
    first, last = ms.session_span(q.year, model.declaration, start)
    lo, hi = (calendar.month_of(m, start) for m in q.window)
    if not lo <= first <= last <= hi:
        _fail(
            src,
            f"{field}.window",
            "does not hold the session's months",
            found=list(q.window),
            allowed=f"a window holding {calendar.date_of(first, start)} to "
            f"{calendar.date_of(last, start)}",
        )
    if last > months:
        _fail(
            src,
            f"{field}.year",
            "the session ends after the forecast's horizon",
            found=q.year,
            allowed=f"sessions that end by {calendar.date_of(months, start)}",
        )


def session_months(q: DistanceQuestion, model: Model) -> tuple[str, str]:
    """The calendar months whose simulated alignment stands for the question's session."""
    first, last = model.declaration.session_months
    return f"{q.year:04d}-{first:02d}", f"{q.year:04d}-{last:02d}"


def values(
    questions: Sequence[DistanceQuestion],
    model: Model,
    traj: Trajectory,
    actors: Sequence[str],
    measurement: Mapping[str, np.ndarray],
    seed: int,
) -> dict[str, np.ndarray]:
    """Each question's distance in every run, (R,), by question id.

    ``measurement`` holds each run's measurement parameters (`Posterior.draw_measurement` of
    the runs' own particles); run r's error term is drawn from stream (seed, `STREAM`, r).
    """
    decl, start = model.declaration, traj.start
    idx = {a: i for i, a in enumerate(actors)}
    series = {(a, b): traj.pair_series(idx[a], idx[b]) for a, b in decl.pairs}
    initial = ms.initial_alignment(series, decl)
    runs = initial.shape[0]
    keys = rng.run_keys(seed, np.full(runs, STREAM), np.arange(runs))
    scale, offset, noise = (np.asarray(measurement[n], dtype=float) for n in ms.PARAMETERS)
    by_year: dict[int, np.ndarray] = {}
    out = {}
    for q in questions:
        if q.year not in by_year:
            aligned = ms.session_alignment(series, decl, (q.year,), start)  # (R, P, 1)
            u = rng.uniforms(keys, q.year, len(decl.pairs))  # (R, P): slot (year, pair)
            normals = ndtri(np.clip(u, 1e-12, 1 - 1e-12))[:, :, None]
            # `predict` reads the anchor and the sd of the observations it is given.
            future = replace(model.observed, years=(q.year,), sd=model.sd[:, None])
            dist = ms.predict(aligned, initial, future, scale, offset, noise, normals)
            by_year[q.year] = np.maximum(dist[:, :, 0], 0.0)
        pair = q.pair if q.pair in decl.pairs else q.pair[::-1]
        out[q.id] = by_year[q.year][:, decl.pairs.index(pair)]
    return out
