"""The run table and the per-month table of a trajectory, and the outcomes they declare.

Each declared outcome's columns come from its kind (`sim.model.outcomes.registry`); every run
also reports the bloc structure (landscape theory), whether it changed from the start, and how
often each actor changed policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model import landscape
from sim.model.outcomes.columns import action_column, pair_column
from sim.model.outcomes.kind import Context, Kind, Outcome
from sim.model.outcomes.registry import of
from sim.scenario import calendar

if TYPE_CHECKING:
    from sim.model.engine import Trajectory
    from sim.model.params import Params
    from sim.scenario.sections import OutcomeSpec


def specs(
    outcome_specs: tuple[OutcomeSpec, ...], labels: dict[str, str] | None = None
) -> Iterator[tuple[OutcomeSpec, Kind, Context]]:
    """Each declared outcome with its kind and its context (whether it is the first of its
    kind, the actors' labels).
    """
    seen: set[str] = set()
    for spec in outcome_specs:
        yield spec, of(spec), Context(first=spec.kind not in seen, labels=labels)
        seen.add(spec.kind)


def declared(params: Params, labels: dict[str, str] | None = None) -> tuple[Outcome, ...]:
    """The outcomes of a scenario, with descriptions naming its actors: the per-month series
    first, then the per-run outcomes.
    """
    lab = labels or {}

    def name(actor: str) -> str:
        return lab.get(actor, actor)

    per_kind = [k.outcomes(s, c) for s, k, c in specs(params.outcome_specs, labels)]
    out = [o for group in per_kind for o in group if o.kind == "series"]
    out += [o for group in per_kind for o in group if o.kind != "series"]
    out += [
        Outcome(
            "blocs",
            "configuration",
            "Final bloc structure: the two coalitions of lowest frustration (landscape theory, "
            "Axelrod and Bennett 1993) given capabilities and final alignment",
        ),
        Outcome("bloc_change", "true/false", "The final bloc structure differs from the start's"),
    ]
    out += [
        Outcome(
            f"bloc_{actor}",
            "0 or 1",
            f"Final bloc of {name(actor)} (bloc 0 holds {name(params.actors[0])})",
        )
        for actor in params.actors
    ]
    out += [
        Outcome(f"changes_{actor}", "count", f"Policy changes of {name(actor)} over the run")
        for actor in params.actors
    ]
    return tuple(out)


def run_table(
    traj: Trajectory, params: Params, replicate: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per run with every scalar outcome."""
    r = traj.alignment.shape[0]
    table: dict[str, object] = {
        "replicate": np.arange(r) if replicate is None else np.asarray(replicate)
    }
    for spec, kind, ctx in specs(params.outcome_specs):
        table.update(kind.columns(spec, traj, params, ctx))

    n = len(params.actors)
    sizes = np.broadcast_to(params.cap, (r, n))
    final = landscape.best_configuration(sizes, _full_alignment(traj, n, -1))
    initial = landscape.best_configuration(sizes, _full_alignment(traj, n, 0))
    table["blocs"] = _bloc_names(final, params.actors)
    table["bloc_change"] = ~_same_configuration(final, initial)
    for k, actor in enumerate(params.actors):
        table[f"bloc_{actor}"] = final[:, k].astype(np.int8)
    changes = policy_changes(traj.actions, params.policy0)
    for k, actor in enumerate(params.actors):
        table[f"changes_{actor}"] = changes[:, k]
    return pd.DataFrame(table)


def series_values(traj: Trajectory, params: Params) -> dict[str, np.ndarray]:
    """Every declared series outcome per run and month, (R, T + 1) each (month 0 is the
    start): what Mesa's DataCollector reports each month.
    """
    out: dict[str, np.ndarray] = {}
    for spec, kind, ctx in specs(params.outcome_specs):
        out.update(kind.series(spec, traj, params, ctx))
    return out


def policy_changes(actions: np.ndarray, policy0: np.ndarray) -> np.ndarray:
    """Number of months in which each actor's action differs from the month before, (R, N);
    month 1 counts as a change when it differs from a declared starting policy.
    """
    acts = actions.astype(np.int64)
    changes = (acts[:, 1:] != acts[:, :-1]).sum(axis=1)
    start = np.broadcast_to(policy0, changes.shape)
    return changes + ((start >= 0) & (acts[:, 0] != start))


def series_table(
    traj: Trajectory, params: Params, replicate: np.ndarray | None = None
) -> pd.DataFrame:
    """Per-month trajectories, long by (replicate, month): the calendar month, the alignment
    of every pair, the declared series outcomes not already among those (a balance's
    ``<id>_index``) and each actor's action (month 0 is the initial state; its action is the
    policy held at the start, empty if none was declared).
    """
    r, t1, _ = traj.alignment.shape
    reps = np.arange(r) if replicate is None else np.asarray(replicate)
    data: dict[str, np.ndarray] = {
        "replicate": np.repeat(reps, t1),
        "month": np.tile(np.arange(t1), r),
    }
    if traj.start:
        dates = np.tile(np.array(calendar.dates(t1 - 1, traj.start), dtype=object), r)
        data["date"] = pd.Series(dates, dtype="str").array
    a = params.actors
    for p, (i, j) in enumerate(traj.pairs):
        data[pair_column(a[i], a[j])] = traj.alignment[:, :, p].reshape(-1)
    for spec, kind, ctx in specs(params.outcome_specs):
        stored = kind.stored_series(spec, ctx)
        if stored:
            values = kind.series(spec, traj, params, ctx)
            data.update({name: values[name].reshape(-1) for name in stored})
    for n, actor in enumerate(a):
        codes = np.concatenate(
            [np.full((r, 1), params.policy0[n]), traj.actions[:, :, n].astype(np.int64)], axis=1
        )
        data[action_column(actor)] = pd.Categorical.from_codes(
            codes.reshape(-1), categories=params.actions[n]
        )
    return pd.DataFrame(data)


def _full_alignment(traj: Trajectory, n: int, month: int) -> np.ndarray:
    r = traj.alignment.shape[0]
    out = np.broadcast_to(np.eye(n), (r, n, n)).copy()
    for p, (i, j) in enumerate(traj.pairs):
        out[:, i, j] = out[:, j, i] = traj.alignment[:, month, p]
    return out


def _same_configuration(blocs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Whether each row's two-bloc split equals ``reference``'s (bloc labels may be swapped)."""
    same = (blocs == reference).all(axis=1)
    swapped = (blocs == 1 - reference).all(axis=1)
    return same | swapped


def _bloc_names(blocs: np.ndarray, actors: tuple[str, ...]) -> np.ndarray:
    """Readable configuration names, e.g. 'iran+russia | gulf+united_states'."""
    codes, inverse = np.unique(blocs, axis=0, return_inverse=True)
    names = []
    for code in codes:
        sides = ["+".join(a for a, c in zip(actors, code, strict=True) if c == s) for s in (0, 1)]
        names.append(" | ".join(s for s in sides if s) or "")
    return np.array(names, dtype=object)[inverse.reshape(-1)]
