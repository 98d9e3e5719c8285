"""The measurement model: how simulated alignment maps to UN General Assembly ideal points.

Declared per scenario in ``scenarios/measurement/<name>.toml`` (which UN members stand for each
actor, the anchor sessions, the months of a session's votes). For a pair of actors (i, j) and a
session year y after the anchor::

    distance(i, j, y) = anchor(i, j) + offset + scale * (a0(i, j) - a(i, j, y)) + e
    e ~ Normal(0, noise^2 + sd(i, j, y)^2)

where ``distance`` is |ideal point of i - ideal point of j| (a group's ideal point is the mean of
its states'), ``anchor`` the pair's mean distance over the anchor sessions, ``a0`` the scenario's
initial alignment (month 0, the world the anchor sessions describe), ``a(i, j, y)`` the mean
simulated alignment over the session's months of year y, and ``sd`` the measurement standard
deviation of the observed distance (from the data's 90% intervals). ``scale`` (ideal-point units
per unit of alignment, >= 0: more aligned, closer), ``offset`` (a drift of every pair after the
anchor, e.g. the Assembly's agenda) and ``noise`` (the year's agenda, beyond the estimates' own
uncertainty) are the measurement parameters, calibrated with the model's. Their priors come from
the sessions before the observed years (`priors`). docs/calibration.md states the assumptions.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.scenario import calendar, files, read_toml
from sim.scenario.evidence import extends_chain
from sim.validation.data import unga

FOLDER = "measurement"
PARAMETERS = ("measurement.scale", "measurement.offset", "measurement.noise")


@dataclass(frozen=True)
class Measurement:
    """A scenario's declared mapping from actors to UN members (see the module docstring)."""

    states: Mapping[str, tuple[str, ...]]  # actor id -> ISO3 codes whose mean stands for it
    pairs: tuple[tuple[str, str], ...]  # actor pairs compared, in scenario order
    anchor: tuple[int, int]  # first and last anchor session year
    session_months: tuple[int, int]  # first and last calendar month of a session's votes
    file: str  # data file under the shipped data/ folder
    source: str  # the declaration file
    data_source: str = "unga"  # the kind of data (`sim.validation.data.source`), ``data.source``

    def data_path(self) -> Path:
        """The data file this declaration names: inside the shipped data/ folder only (no
        absolute path, no way out through ``..`` or a link), and existing.
        """
        path = data_file(self.file, self.source)
        if not path.is_file():
            raise SimInputError(
                "names a data file that does not exist (or is not a file)",
                file=self.source,
                field="data.file",
                found=self.file,
                allowed="a file under the shipped data/ folder (unga/ideal_points_2000_2019.csv)",
            )
        return path


def data_file(name: object, declaration: str) -> Path:
    """Where the ``data.file`` of a declaration points, refused outside the shipped data/."""
    from sim.scenario import shipped

    data = shipped.path("data")
    return files.inside(name, data, (data,), file=declaration, field="data.file")


def declaration_path(scenario_path: str | Path) -> Path:
    """The measurement file of a scenario: its own, else its bases', else the baseline's."""
    chain = [Path(p) for p in extends_chain(scenario_path)]
    candidates = [p.parent / FOLDER / f"{p.stem}.toml" for p in chain]
    candidates.append(Path(scenario_path).parent / FOLDER / "baseline.toml")
    for c in candidates:
        if c.is_file():
            return c
    raise SimInputError(
        "no measurement declaration for this scenario",
        file=str(scenario_path),
        allowed=f"a file {candidates[0]} (see docs/calibration.md)",
    )


def load_declaration(scenario_path: str | Path, actors: tuple[str, ...]) -> Measurement:
    """Read and check a scenario's measurement declaration against its actors."""
    path = declaration_path(scenario_path)
    raw = read_toml(path)
    src = str(path)
    unknown = set(raw) - {"data", "states"}
    if unknown:
        raise SimInputError(
            "unknown table", file=src, found=sorted(unknown)[0], allowed="data, states"
        )
    data = _table(raw, "data", src)
    states_raw = _table(raw, "states", src)
    extra = set(data) - {"source", "file", "anchor", "session_months"}
    if extra:
        raise SimInputError(
            "unknown key",
            file=src,
            field=f"data.{sorted(extra)[0]}",
            allowed="source, file, anchor, session_months",
        )
    kind = data.get("source", "unga")
    if not isinstance(kind, str) or not kind:
        raise SimInputError("expected a data source name", file=src, field="data.source")
    file = data.get("file")
    if not isinstance(file, str) or not file:
        raise SimInputError("expected a file name under data/", file=src, field="data.file")
    data_file(file, src)  # refused at once when it points outside the shipped data
    anchor = _span(data, "anchor", src, 1946, 3000)
    months = _span(data, "session_months", src, 1, 12)
    states: dict[str, tuple[str, ...]] = {}
    for actor, codes in states_raw.items():
        if actor not in actors:
            raise SimInputError(
                "not an actor of the scenario",
                file=src,
                field=f"states.{actor}",
                allowed=", ".join(actors),
            )
        if (
            not isinstance(codes, list)
            or not codes
            or not all(isinstance(c, str) and c for c in codes)
        ):
            raise SimInputError(
                "expected a list of ISO3 state codes",
                file=src,
                field=f"states.{actor}",
                found=codes,
            )
        states[actor] = tuple(codes)
    mapped = [a for a in actors if a in states]
    if len(mapped) < 2:
        raise SimInputError("map at least two actors to states", file=src, field="states")
    return Measurement(
        states=states,
        pairs=tuple(itertools.combinations(mapped, 2)),
        anchor=anchor,
        session_months=months,
        file=file,
        source=src,
        data_source=kind,
    )


def _table(raw: Mapping[str, Any], key: str, src: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, Mapping):
        raise SimInputError("expected a table", file=src, field=key)
    return value


def _span(data: Mapping[str, Any], key: str, src: str, low: int, high: int) -> tuple[int, int]:
    v = data.get(key)
    if (
        not isinstance(v, list)
        or len(v) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        or not low <= v[0] <= v[1] <= high
    ):
        raise SimInputError(
            "expected [first, last], whole numbers in order",
            file=src,
            field=f"data.{key}",
            found=v,
            allowed=f"{low} to {high}",
        )
    return int(v[0]), int(v[1])


# --------------------------------------------------------------------------------------------
# Observations


@dataclass(frozen=True)
class Observed:
    """The observed pair distances a calibration fits: anchor levels and the later sessions."""

    pairs: tuple[tuple[str, str], ...]
    years: tuple[int, ...]  # observed session years after the anchor, up to the cutoff
    anchor: np.ndarray  # (P,) mean distance over the anchor sessions
    distance: np.ndarray  # (P, Y) observed distance per pair and year
    sd: np.ndarray  # (P, Y) measurement standard deviation of each observed distance
    history: pd.DataFrame  # every year up to the cutoff: pair, year, distance, sd

    def table(self) -> pd.DataFrame:
        """The observed points as a long table: pair, year, distance, sd."""
        rows = [
            (f"{a}-{b}", y, self.distance[p, k], self.sd[p, k])
            for p, (a, b) in enumerate(self.pairs)
            for k, y in enumerate(self.years)
        ]
        return pd.DataFrame(rows, columns=["pair", "year", "distance", "sd"])


def pair_distances(m: Measurement, data: unga.Data) -> pd.DataFrame:
    """Observed distance and its measurement sd for every declared pair and year of ``data``."""
    groups = {a: data.points(codes) for a, codes in m.states.items()}
    rows = []
    for a, b in m.pairs:
        ga, gb = groups[a], groups[b]
        years = ga.index.intersection(gb.index)
        d = (ga.ideal_point[years] - gb.ideal_point[years]).abs()
        sd = np.sqrt(ga.sd[years] ** 2 + gb.sd[years] ** 2)
        rows.append(pd.DataFrame({"pair": f"{a}-{b}", "year": years, "distance": d, "sd": sd}))
    return pd.concat(rows, ignore_index=True)


def observe(m: Measurement, data: unga.Data, start: str, months: int | None = None) -> Observed:
    """The observations of a calibration: the anchor, then the sessions after it.

    Only sessions after the anchor whose vote months fall within the simulated months
    (1..``months`` from ``start``, when given) are observations; ``data`` holds nothing after
    its cutoff.
    """
    hist = pair_distances(m, data)
    lo, hi = m.anchor
    anchor = np.empty(len(m.pairs))
    for p, (a, b) in enumerate(m.pairs):
        rows = hist[(hist.pair == f"{a}-{b}") & hist.year.between(lo, hi)]
        if len(rows) != hi - lo + 1:
            raise SimInputError(
                "the data lack an anchor session for this pair",
                file=m.source,
                field="data.anchor",
                found=f"{a}-{b}",
            )
        anchor[p] = rows.distance.mean()
    later = sorted(y for y in hist.year.unique() if y > hi)
    if months is not None:
        later = [y for y in later if 1 <= session_span(y, m, start)[1] <= months]
    if not later:
        raise SimInputError(
            "no observed session after the anchor and within the simulated months",
            file=m.source,
            field="data.anchor",
            found=m.anchor,
        )
    dist = np.empty((len(m.pairs), len(later)))
    sd = np.empty_like(dist)
    for p, (a, b) in enumerate(m.pairs):
        rows = hist[hist.pair == f"{a}-{b}"].set_index("year")
        dist[p] = rows.distance.reindex(later).to_numpy()
        sd[p] = rows.sd.reindex(later).to_numpy()
    if np.isnan(dist).any():
        raise SimInputError("the data miss a session for a pair", file=m.source, field="states")
    return Observed(m.pairs, tuple(int(y) for y in later), anchor, dist, sd, hist)


def session_span(year: int, m: Measurement, start: str) -> tuple[int, int]:
    """Simulated months (first, last) of a session's votes in ``year``."""
    first, last = m.session_months
    return (
        calendar.month_of(f"{year:04d}-{first:02d}", start),
        calendar.month_of(f"{year:04d}-{last:02d}", start),
    )


def months_needed(m: Measurement, years: tuple[int, ...], start: str) -> int:
    """How many months a simulation must run to cover the last observed session."""
    return session_span(max(years), m, start)[1]


# --------------------------------------------------------------------------------------------
# Simulated side


def session_alignment(
    series: Mapping[tuple[str, str], np.ndarray],
    m: Measurement,
    years: tuple[int, ...],
    start: str,
) -> np.ndarray:
    """Mean alignment per run, pair and session year, (R, P, Y), and month 0 as (R, P).

    ``series`` maps each pair to its (R, T + 1) alignment (month 0 first).
    """
    out = []
    for pair in m.pairs:
        s = series[pair]
        cols = []
        for y in years:
            a, b = session_span(y, m, start)
            cols.append(s[:, max(a, 1) : b + 1].mean(axis=1))
        out.append(np.stack(cols, axis=1))
    return np.stack(out, axis=1)


def initial_alignment(series: Mapping[tuple[str, str], np.ndarray], m: Measurement) -> np.ndarray:
    """Month-0 alignment per run and pair, (R, P)."""
    return np.stack([series[pair][:, 0] for pair in m.pairs], axis=1)


def predict(
    aligned: np.ndarray,
    initial: np.ndarray,
    obs: Observed,
    scale: np.ndarray,
    offset: np.ndarray,
    noise: np.ndarray,
    normals: np.ndarray | None,
) -> np.ndarray:
    """Predicted observed distances (R, P, Y) from simulated session alignment (R, P, Y).

    ``scale``, ``offset`` and ``noise`` are per run (R,); ``normals`` (R, P, Y) standard normal
    draws for the error term, or None for the noise-free expectation.
    """
    mean = (
        obs.anchor[None, :, None]
        + offset[:, None, None]
        + scale[:, None, None] * (initial[:, :, None] - aligned)
    )
    if normals is None:
        return mean
    sd = np.sqrt(noise[:, None, None] ** 2 + obs.sd[None] ** 2)
    return mean + sd * normals


# --------------------------------------------------------------------------------------------
# Summary statistics and priors


def summary_names(obs: Observed) -> tuple[str, ...]:
    """Names of the summary statistics: per pair, the mean change from the anchor and (with
    two or more observed years) the trend per year.
    """
    names = []
    for a, b in obs.pairs:
        names.append(f"{a}-{b}.change")
        if len(obs.years) > 1:
            names.append(f"{a}-{b}.trend")
    return tuple(names)


def summaries(distances: np.ndarray, obs: Observed) -> np.ndarray:
    """Summary statistics (R, S) of distances (R, P, Y), in `summary_names` order."""
    change = distances.mean(axis=2) - obs.anchor[None, :]
    if len(obs.years) == 1:
        return change
    x = np.asarray(obs.years, dtype=float)
    x = x - x.mean()
    trend = (distances * x).sum(axis=2) / (x**2).sum()
    return np.stack([change, trend], axis=2).reshape(len(distances), -1)


@dataclass(frozen=True)
class Prior:
    """A uniform prior of one measurement parameter, with the reason for its bounds."""

    name: str
    low: float
    high: float
    reason: str


def priors(m: Measurement, data: unga.Data) -> tuple[Prior, ...]:
    """Uniform priors of the measurement parameters, from the sessions up to the anchor's end.

    - scale in [0, W / 2]: W is the widest distance between any two states of the data in those
      sessions; a swing across the whole alignment scale (-1 to +1, width 2) moves a pair at
      most that far.
    - offset in [-2 D, 2 D]: D is the largest shift of the pairs' mean distance between any
      session and the anchor mean.
    - noise in [0, 2 N]: N is the root mean square deviation of a pair's yearly distance from
      its anchor mean over the anchor sessions (an upper bound: it also holds real change).
    """
    lo, hi = m.anchor
    early = data.table[data.table.year <= hi]
    wide = early.groupby("year").ideal_point.agg(lambda s: s.max() - s.min()).max()
    hist = pair_distances(m, data)
    hist = hist[hist.year <= hi]
    anchor = hist[hist.year.between(lo, hi)].groupby("pair").distance.mean()
    dev = hist.distance - hist.pair.map(anchor)
    shift = dev.groupby(hist.year).mean().abs().max()
    within = dev[hist.year.between(lo, hi)]
    rms = float(np.sqrt((within**2).mean()))
    return (
        Prior(
            PARAMETERS[0],
            0.0,
            float(wide) / 2,
            f"half the widest distance between two states in {int(early.year.min())}-{hi} "
            f"({wide:.2f}): a swing across the alignment scale moves a pair at most that far",
        ),
        Prior(
            PARAMETERS[1],
            -2 * float(shift),
            2 * float(shift),
            f"twice the largest shift of the pairs' mean distance from the anchor in "
            f"{int(hist.year.min())}-{hi} ({shift:.2f})",
        ),
        Prior(
            PARAMETERS[2],
            0.0,
            2 * rms,
            f"twice the RMS deviation of a pair's yearly distance from its anchor mean over "
            f"{lo}-{hi} ({rms:.2f}), an upper bound on the agenda's noise",
        ),
    )
