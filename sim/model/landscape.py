"""Landscape theory of aggregation: the project's definition of bloc structure.

Axelrod, R. and Bennett, D. S. (1993) "A Landscape Theory of Aggregation", British Journal of
Political Science 23(2), 211-233. See docs/landscape.md.

Conventions:

* Actors ``i = 0..n-1`` have sizes ``s_i >= 0`` (e.g. capability), used as given;
  `normalise_sizes` (or ``normalise=True`` in `analyse`) rescales them to sum to 1.
* Propensities ``p_ij`` are symmetric, on the scale [-1, 1] here; positive means i and j prefer
  to be in the same coalition, negative that they prefer to be apart. The diagonal is ignored.
* A configuration X puts each actor in one of two coalitions, labels ``x_i`` in {0, 1};
  ``d_ij(X)`` is 0 if i and j share a coalition, 1 otherwise.
* Energy (total frustration) ``E(X) = sum_{i<j} s_i s_j p_ij d_ij(X)``; lower is better. The
  paper sums over ordered pairs, which doubles every energy and changes nothing else.
* Scale: multiplying sizes by a > 0 and propensities by b > 0 multiplies every energy by
  ``a**2 * b``; minima, basins and the optimum do not change (tolerances are relative).
* X and its mirror image (labels swapped) are one configuration. Configurations are canonical,
  actor 0 in coalition 0: there are ``2**(n-1)``, in the order of `configurations`.
* A configuration is stable (a local minimum) if no single actor can lower the energy by
  switching sides; with symmetric propensities that is exactly when no actor can lower its own
  frustration (paper, note 2).
* The basin of a minimum is the set of configurations that reach it by steepest descent: move
  to the single-switch neighbour of lowest energy (ties to the lowest actor index) while that
  lowers the energy. Basins partition all ``2**(n-1)`` configurations.
* Energies within ``RTOL * sum_{i<j} |s_i s_j p_ij|`` of each other count as equal, so rounding
  never decides a tie; ties go to the first configuration in order (or lowest actor index).
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import SimInputError
from sim.scenario.files import read_text, read_toml

MAX_ACTORS = 20  # 2**19 configurations: exhaustive search stays around a second
RTOL = 1e-9  # relative tolerance for equal energies
_CHUNK = 1 << 22  # float64 elements per work block (32 MB)


def configurations(n: int) -> np.ndarray:
    """All ``2**(n-1)`` two-coalition configurations of ``n`` actors, (2**(n-1), n) bool.

    Row k puts actor j >= 1 in coalition 1 iff bit j-1 of k is set; actor 0 is always in
    coalition 0, which removes the label symmetry.
    """
    if not 1 <= n <= MAX_ACTORS:
        raise ValueError(f"n must be in 1..{MAX_ACTORS}, got {n}")
    codes = np.arange(1 << (n - 1), dtype="<u4") << 1  # bit j = coalition of actor j
    bits = np.unpackbits(codes.view(np.uint8).reshape(-1, 4), axis=1, bitorder="little")
    return bits[:, :n].astype(bool)


def normalise_sizes(sizes: np.ndarray) -> np.ndarray:
    """Sizes rescaled to sum to 1 along the last axis (energies scale, minima do not)."""
    s = np.asarray(sizes, dtype=np.float64)
    total = s.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("sizes must have a positive sum to be normalised")
    return s / total


def _weights(sizes: np.ndarray, propensity: np.ndarray) -> np.ndarray:
    """Check the inputs; return weights ``W_ij = s_i s_j p_ij``, zero diagonal, (..., n, n)."""
    s, p = np.asarray(sizes, dtype=np.float64), np.asarray(propensity, dtype=np.float64)
    if s.ndim not in (1, 2) or p.ndim not in (2, 3) or p.shape[-2:] != (s.shape[-1],) * 2:
        raise ValueError(
            f"sizes (n,) or (R, n) and propensity (n, n) or (R, n, n); got {s.shape} and {p.shape}"
        )
    if not (np.isfinite(s).all() and np.isfinite(p).all()):
        raise ValueError("sizes and propensities must be finite")
    if np.any(s < 0):
        raise ValueError("sizes must be >= 0")
    pt = np.swapaxes(p, -1, -2)
    if np.any(np.abs(p - pt) > 1e-12 * max(1.0, float(np.abs(p).max(initial=0.0)))):
        raise ValueError("propensity must be symmetric")
    w = s[..., :, None] * s[..., None, :] * (p + pt) / 2
    return w * (1.0 - np.eye(s.shape[-1]))


def _tolerance(w: np.ndarray) -> np.ndarray:
    return RTOL * np.abs(w).sum(axis=(-1, -2)) / 2


def _energies(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """E = sum_i x_i (r_i - (W x)_i) with r the row sums of W: (..., n, n), (C, n) -> (..., C).

    This is ``sum_{i<j} W_ij [x_i != x_j]``, because ``[x_i != x_j] = x_i + x_j - 2 x_i x_j``.
    """
    r = w.sum(axis=-1)[..., None, :]
    out = np.empty(w.shape[:-2] + (len(x),))
    step = max(1, _CHUNK // (w[..., 0, 0].size * w.shape[-1]))
    for a in range(0, len(x), step):
        xc = x[a : a + step].astype(np.float64)
        out[..., a : a + step] = ((r - xc @ w) * xc).sum(axis=-1)
    return out


def energies(
    sizes: np.ndarray, propensity: np.ndarray, configs: np.ndarray | None = None
) -> np.ndarray:
    """Energies of configurations (default: all of `configurations`), (n_configs,) or (R, ...).

    ``sizes`` is (n,) or (R, n), ``propensity`` (n, n) or (R, n, n); a leading replicate axis on
    either broadcasts. ``configs`` is a (n_configs, n) array of 0/1 or bool labels.
    """
    w = _weights(sizes, propensity)
    x = configurations(w.shape[-1]) if configs is None else np.asarray(configs, dtype=bool)
    if x.ndim != 2 or x.shape[1] != w.shape[-1]:
        raise ValueError(f"configs must be (n_configs, {w.shape[-1]}), got {x.shape}")
    return _energies(w, x)


def best_configuration(sizes: np.ndarray, propensity: np.ndarray) -> np.ndarray:
    """Labels of the lowest-energy configuration, (n,) int8, or (R, n) with a replicate axis.

    Actor 0 is always in bloc 0; ties go to the first configuration in `configurations` order.
    The search is compiled and walks the configurations in Gray-code order, updating the
    energy by one actor's switch at a time (`sim.model.blocsearch`); it gives the lowest of
    `energies`, ties decided alike.
    """
    from sim.model import blocsearch  # compiled: loaded only where bloc structure is searched

    w = _weights(sizes, propensity)
    n = w.shape[-1]
    configurations(n)  # checks n
    flat = w.reshape(-1, n, n)
    out = blocsearch.best_configurations(flat, _tolerance(flat))
    return out.reshape(w.shape[:-1])


def best_configuration_reference(sizes: np.ndarray, propensity: np.ndarray) -> np.ndarray:
    """`best_configuration` by the plain search: every configuration's energy from `energies`,
    the first within the tolerance of the least. Exponentially slower; kept as the reference
    the compiled search is tested against (tests/test_landscape.py).
    """
    w = _weights(sizes, propensity)
    n = w.shape[-1]
    x, flat = configurations(n), w.reshape(-1, n, n)
    out = np.empty((len(flat), n), dtype=np.int8)
    block = max(1, _CHUNK // len(x))  # replicates per block, to bound memory
    for a in range(0, len(flat), block):
        e = _energies(flat[a : a + block], x)
        near = e <= e.min(axis=1, keepdims=True) + _tolerance(flat[a : a + block])[:, None]
        out[a : a + block] = x[np.argmax(near, axis=1)]
    return out.reshape(w.shape[:-1])


def _descent(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return configurations, energies, and the stable ones' indices (by energy) and basins."""
    n = w.shape[-1]
    x = configurations(n)
    e = _energies(w, x)
    tol = _tolerance(w)
    codes = np.arange(len(x))
    # Switching actor j >= 1 toggles bit j-1; switching actor 0 gives the mirror image of the
    # configuration with every other actor switched, i.e. all bits toggled.
    flips = np.array([len(x) - 1] + [1 << (j - 1) for j in range(1, n)])
    target = codes.copy()
    step = max(1, _CHUNK // n)
    for a in range(0, len(x), step):
        k = codes[a : a + step]
        nbr = k[:, None] ^ flips
        ne = e[nbr]
        low = ne.min(axis=1)
        pick = nbr[np.arange(len(k)), np.argmax(ne <= low[:, None] + tol, axis=1)]
        target[a : a + step] = np.where(low < e[k] - tol, pick, k)
    while True:  # pointer jumping: follow the descent paths to their ends
        jumped = target[target]
        if np.array_equal(jumped, target):
            break
        target = jumped
    basins = np.bincount(target, minlength=len(x))
    idx = np.flatnonzero(target == codes)
    idx = idx[np.argsort(e[idx], kind="stable")]
    return x, e, idx, basins[idx]


@dataclass(frozen=True, eq=False)
class Minimum:
    """A stable configuration: its labels, energy, basin size and index in `configurations`."""

    labels: np.ndarray
    energy: float
    basin: int
    index: int


def local_minima(sizes: np.ndarray, propensity: np.ndarray) -> list[Minimum]:
    """Every stable configuration with its energy and basin, by energy (ties in index order)."""
    w = _weights(sizes, propensity)
    if w.ndim != 2:
        raise ValueError("local_minima takes one case: sizes (n,) and propensity (n, n)")
    x, e, idx, basins = _descent(w)
    return [
        Minimum(x[k].astype(np.int8), float(e[k]), int(b), int(k))
        for k, b in zip(idx, basins, strict=True)
    ]


@dataclass(frozen=True, eq=False)
class LandscapeResult:
    """The energy landscape of one case.

    ``minima`` (m, n) int8 labels of the stable configurations by energy, with ``energies``
    (m,) and ``basins`` (m,) (summing to 2**(n-1)); ``optimum`` is the row of the global
    minimum (the first configuration in order on a tie); ``landscape`` holds the energies of all
    configurations in `configurations` order.
    """

    names: tuple[str, ...]
    sizes: np.ndarray
    propensity: np.ndarray
    minima: np.ndarray
    energies: np.ndarray
    basins: np.ndarray
    optimum: int
    landscape: np.ndarray

    @property
    def optimum_labels(self) -> np.ndarray:
        """Labels of the global optimum, (n,) int8, actor 0 in bloc 0."""
        return self.minima[self.optimum]

    @property
    def optimum_energy(self) -> float:
        """Energy of the global optimum."""
        return float(self.energies[self.optimum])

    def blocs(self, labels: np.ndarray) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names in bloc 0 (with actor 0) and in bloc 1 under ``labels``."""
        names, labels = np.array(self.names, dtype=object), np.asarray(labels)
        return tuple(names[labels == 0]), tuple(names[labels == 1])


def analyse(
    sizes: np.ndarray,
    propensity: np.ndarray,
    names: list[str] | tuple[str, ...] | None = None,
    *,
    normalise: bool = False,
) -> LandscapeResult:
    """Exhaustive landscape analysis of one case: stable configurations, basins, optimum."""
    s = normalise_sizes(sizes) if normalise else np.asarray(sizes, dtype=np.float64)
    p = np.asarray(propensity, dtype=np.float64)
    w = _weights(s, p)
    if w.ndim != 2:
        raise ValueError("analyse takes one case: sizes (n,) and propensity (n, n)")
    names = tuple(names) if names is not None else tuple(f"actor{i}" for i in range(len(s)))
    if len(names) != len(s):
        raise ValueError(f"{len(names)} names for {len(s)} actors")
    x, e, idx, basins = _descent(w)
    best = int(np.argmax(e <= e.min() + _tolerance(w)))  # always a stable configuration
    return LandscapeResult(
        names, s, p, x[idx].astype(np.int8), e[idx], basins, int(np.flatnonzero(idx == best)[0]), e
    )


def _number(
    cell: Any, bad: Callable[..., SimInputError], field: str, lo: float, hi: float
) -> float:
    """Check one number of a table (a TOML value or a CSV cell)."""
    allowed = f"a number in [{lo}, {hi}]"
    if isinstance(cell, str):
        try:
            cell = float(cell)
        except ValueError:
            raise bad("not a number", field=field, found=cell, allowed=allowed) from None
    if isinstance(cell, bool) or not isinstance(cell, int | float) or not math.isfinite(cell):
        raise bad("not a finite number", field=field, found=cell, allowed=allowed)
    if not lo <= cell <= hi:
        raise bad("out of range", field=field, found=cell, allowed=allowed)
    return float(cell)


def _read_csv(text: str, bad: Callable[..., SimInputError]) -> tuple[list, list, dict]:
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if "".join(r).strip()]
    rows = [r for r in rows if not r[0].startswith("#")]
    if not rows or rows[0][:2] != ["actor", "size"]:
        found = ",".join(rows[0][:2]) if rows else "an empty file"
        raise bad("bad header", field="header", found=found, allowed="actor,size,<actor>,...")
    cols, names, sizes, pairs = rows[0][2:], [r[0] for r in rows[1:]], [], {}
    if len(set(cols)) != len(cols):
        raise bad("an actor has two columns", field="header", found=",".join(rows[0]))
    unmatched = [f"row {a}" for a in names if a not in cols]
    for where in unmatched + [f"column {c}" for c in cols if c not in names]:
        raise bad("every actor needs both a row and a column", field=where)
    for row in rows[1:]:
        if len(row) != len(rows[0]):
            raise bad("wrong number of cells", field=f"row {row[0]}", found=len(row))
        sizes.append(_number(row[1], bad, f"row {row[0]}, column size", 0, math.inf))
        for col, cell in zip(cols, row[2:], strict=True):
            if col != row[0]:  # diagonal cells are ignored
                field = f"row {row[0]}, column {col}"
                pair = pairs.setdefault(frozenset((row[0], col)), [])
                pair.append((_number(cell, bad, field, -1, 1), field))
    return names, sizes, pairs


def _read_toml(doc: dict, bad: Callable[..., SimInputError]) -> tuple[list, list, dict]:
    for key in sorted(set(doc) - {"title", "actors", "propensity"}):
        raise bad("unknown table", field=key, allowed="title, actors, propensity")
    actors, prop = doc.get("actors"), doc.get("propensity", {})
    if not isinstance(actors, dict) or not isinstance(prop, dict):
        raise bad("need [actors] with name = size and [propensity] with a.b = value")
    names = list(actors)
    sizes = [_number(v, bad, f"actors.{a}", 0, math.inf) for a, v in actors.items()]
    pairs: dict = {}
    for a, inner in prop.items():
        if a not in names or not isinstance(inner, dict):
            raise bad(
                "unknown actor or not a table", field=f"propensity.{a}", allowed=", ".join(names)
            )
        for b, v in inner.items():
            field = f"propensity.{a}.{b}"
            if b not in names or b == a:
                raise bad("unknown partner", field=field, allowed=", ".join(names))
            pairs.setdefault(frozenset((a, b)), []).append((_number(v, bad, field, -1, 1), field))
    return names, sizes, pairs


def read_table(path: str | Path) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Read a CSV or TOML table of sizes and propensities: ``(names, sizes, propensity)``.

    CSV (``.csv``): header ``actor,size,<name>,<name>,...`` then one row per actor with its
    name, size (>= 0) and its propensity (in [-1, 1]) toward each column's actor: a square,
    symmetric matrix whose diagonal cells are ignored (may be blank). Blank lines and lines
    starting with ``#`` are skipped.

    TOML (``.toml``): ``[actors]`` with ``name = size`` lines, and ``[propensity]`` with
    ``a.b = value`` lines; every unordered pair must be given, once or both ways with equal
    values. An optional top-level ``title`` string is allowed.

    Raises `SimInputError` for a missing file, an unknown file type, a missing or unknown actor
    or pair, a non-symmetric matrix or a number that is not finite or out of range.
    """
    path = Path(path)
    bad = functools.partial(SimInputError, file=str(path))
    if not path.is_file():
        raise bad("file does not exist" if not path.exists() else "not a file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".toml"):
        raise bad("unknown table type", found=path.suffix or "no extension", allowed=".csv, .toml")
    if suffix == ".csv":
        names, sizes, pairs = _read_csv(read_text(path, (".csv",)), bad)
    else:
        names, sizes, pairs = _read_toml(read_toml(path), bad)
    if len(set(names)) != len(names) or not 2 <= len(names) <= MAX_ACTORS:
        raise bad(f"need 2 to {MAX_ACTORS} actors, each named once", field="actors", found=names)
    prop = np.zeros((len(names), len(names)))
    for i, j in zip(*np.triu_indices(len(names), 1), strict=True):
        given = pairs.get(frozenset((names[i], names[j])))
        if not given:
            raise bad("missing propensity", field=f"{names[i]}.{names[j]}", allowed="[-1, 1]")
        if any(v != given[0][0] for v, _ in given):
            (v0, f0), (v1, f1) = given[:2]
            raise bad("propensities not symmetric", field=f1, found=v1, allowed=f"{v0} as {f0}")
        prop[i, j] = prop[j, i] = given[0][0]
    return tuple(names), np.array(sizes), prop


def plot_landscape(result: LandscapeResult, ax: Any = None) -> Any:
    """Plot all energies sorted, stable configurations marked by basin size; return the axes."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(7, 4), layout="constrained").add_subplot()
    ranked = np.sort(result.landscape)
    ax.plot(np.arange(1, len(ranked) + 1), ranked, color="0.5", lw=1, label="all configurations")
    rank = np.searchsorted(ranked, result.energies) + 1
    share = result.basins / result.basins.sum()
    style = {"zorder": 3, "color": "tab:blue", "label": "stable (area ~ basin)"}
    ax.scatter(rank, result.energies, s=20 + 300 * share, **style)
    style = {"zorder": 4, "color": "tab:red", "label": "optimum", "marker": "*", "s": 150}
    ax.scatter(rank[result.optimum], result.optimum_energy, **style)
    for r, e, b in zip(rank[:10], result.energies[:10], share[:10], strict=False):
        ax.annotate(f"{b:.0%}", (r, e), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("configurations ranked by energy")
    ax.set_ylabel("energy (frustration)")
    ax.set_title(f"Energy landscape of {len(result.names)} actors")
    ax.legend(fontsize=8)
    return ax
