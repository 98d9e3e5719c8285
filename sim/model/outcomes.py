"""Outcomes: declared once (name, unit, description) and computed from trajectories.

The CLI, the results store, the figures and the Mesa model's DataCollector all use these
declarations, so an outcome means the same thing everywhere. Column names are fixed; labels
are filled in from the scenario (which pair forms the "partnership", who betrays whom).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model import landscape
from sim.model.engine import Trajectory
from sim.model.params import Params

NO_RESPONSE = "none"
RESPONSE_WINDOW = 12  # months after a betrayal over which the victim's response is read


@dataclass(frozen=True)
class Outcome:
    """A declared outcome: its column name, unit and a description an analyst can read."""

    name: str
    unit: str
    description: str
    kind: str = "scalar"  # "scalar" (one value per run) or "series" (one per run and month)


def declared(params: Params, labels: dict[str, str] | None = None) -> tuple[Outcome, ...]:
    """The outcomes of a scenario, with descriptions naming its actors."""
    lab = labels or {}
    name = [lab.get(a, a) for a in params.actors]
    a, b = (name[i] for i in params.pair)
    h, east, west = (name[i] for i in params.hedging)
    betrayer, victim = name[params.betrayer], name[params.victim]
    betray_act = params.actions[params.betrayer][params.betrayal_action]
    out = [
        Outcome("alignment", "index in [-1, 1]", f"{a}-{b} alignment", "series"),
        Outcome(
            "hedging",
            "index in [-2, 2]",
            f"{h}'s hedging index: alignment with {east} minus alignment with {west}",
            "series",
        ),
        Outcome("alignment_final", "index in [-1, 1]", f"{a}-{b} alignment at the horizon"),
        Outcome("alignment_mean", "index in [-1, 1]", f"{a}-{b} alignment, mean over the months"),
        Outcome(
            "partnership",
            "true/false",
            f"Strategic partnership: {a}-{b} alignment above the declared threshold for the "
            "declared number of consecutive months",
        ),
        Outcome(
            "partnership_month",
            "month",
            f"Month in which the {a}-{b} strategic partnership was reached (empty if never)",
        ),
        Outcome(
            "betrayal", "true/false", f"{betrayer} betrays {victim} ({betray_act}) at least once"
        ),
        Outcome(
            "betrayal_month",
            "month",
            f"Months until the first {betrayer} betrayal of {victim} (empty if none)",
        ),
        Outcome(
            "response",
            "action",
            f"{victim}'s most frequent action in the {RESPONSE_WINDOW} months after the first "
            f"betrayal ('{NO_RESPONSE}' if no betrayal)",
        ),
        Outcome("hedging_final", "index in [-2, 2]", f"{h}'s hedging index at the horizon"),
        Outcome("hedging_mean", "index in [-2, 2]", f"{h}'s hedging index, mean over the months"),
        Outcome(
            "blocs",
            "configuration",
            "Final bloc structure: the two coalitions of lowest frustration (landscape theory, "
            "Axelrod and Bennett 1993) given capabilities and final alignment",
        ),
    ]
    out += [
        Outcome(f"bloc_{actor}", "0 or 1", f"Final bloc of {name[i]} (bloc 0 holds {name[0]})")
        for i, actor in enumerate(params.actors)
    ]
    return tuple(out)


def first_true(mask: np.ndarray) -> np.ndarray:
    """1-based index of the first True along axis 1, or 0 where there is none."""
    hit = mask.any(axis=1)
    return np.where(hit, mask.argmax(axis=1) + 1, 0)


def partnership_months(
    series: np.ndarray, threshold: np.ndarray, run_length: np.ndarray
) -> np.ndarray:
    """Month (1-based) at which alignment first stayed above ``threshold`` for ``run_length``
    consecutive months, or 0 if never. ``series`` is (R, T) over months 1..T.
    """
    above = series > np.reshape(threshold, (-1, 1))
    need = np.reshape(run_length, (-1,))
    run = np.zeros(len(series), dtype=np.int64)
    reached = np.zeros(len(series), dtype=np.int64)
    for t in range(series.shape[1]):
        run = np.where(above[:, t], run + 1, 0)
        reached = np.where((reached == 0) & (run >= need), t + 1, reached)
    return reached


def run_table(
    traj: Trajectory, params: Params, replicate: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per run with every scalar outcome."""
    r = traj.alignment.shape[0]
    i, j = params.pair
    series = traj.pair_series(i, j).astype(np.float64)
    h, east, west = params.hedging
    hedging = (traj.pair_series(h, east) - traj.pair_series(h, west)).astype(np.float64)
    months = series[:, 1:]
    reached = partnership_months(months, params.threshold, params.run_length)
    betrayed = traj.actions[:, :, params.betrayer] == params.betrayal_action
    bmonth = first_true(betrayed)
    response = _response(traj.actions[:, :, params.victim], bmonth, params.actions[params.victim])

    final_alignment = _full_alignment(traj, len(params.actors))
    sizes = np.broadcast_to(params.cap, (r, len(params.actors)))
    blocs = landscape.best_configuration(sizes, final_alignment)

    table = {
        "replicate": np.arange(r) if replicate is None else np.asarray(replicate),
        "alignment_final": months[:, -1],
        "alignment_mean": months.mean(axis=1),
        "partnership": reached > 0,
        "partnership_month": pd.array(np.where(reached > 0, reached, None), dtype="Int64"),
        "betrayal": bmonth > 0,
        "betrayal_month": pd.array(np.where(bmonth > 0, bmonth, None), dtype="Int64"),
        "response": pd.Categorical(
            response, categories=[NO_RESPONSE, *params.actions[params.victim]]
        ),
        "hedging_final": hedging[:, -1],
        "hedging_mean": hedging[:, 1:].mean(axis=1),
        "blocs": _bloc_names(blocs, params.actors),
    }
    for k, actor in enumerate(params.actors):
        table[f"bloc_{actor}"] = blocs[:, k].astype(np.int8)
    return pd.DataFrame(table)


def series_table(
    traj: Trajectory, params: Params, replicate: np.ndarray | None = None
) -> pd.DataFrame:
    """Per-month trajectories, long by (replicate, month): alignment of every pair, the hedging
    index and each actor's action (month 0 is the initial state and has no actions).
    """
    r, t1, _ = traj.alignment.shape
    reps = np.arange(r) if replicate is None else np.asarray(replicate)
    data: dict[str, np.ndarray] = {
        "replicate": np.repeat(reps, t1),
        "month": np.tile(np.arange(t1), r),
    }
    a = params.actors
    for p, (i, j) in enumerate(traj.pairs):
        data[f"alignment:{a[i]}-{a[j]}"] = traj.alignment[:, :, p].reshape(-1)
    h, east, west = params.hedging
    data["hedging"] = (traj.pair_series(h, east) - traj.pair_series(h, west)).reshape(-1)
    for n, actor in enumerate(a):
        codes = np.concatenate(
            [np.full((r, 1), -1), traj.actions[:, :, n].astype(np.int64)], axis=1
        )
        data[f"action:{actor}"] = pd.Categorical.from_codes(
            codes.reshape(-1), categories=params.actions[n]
        )
    return pd.DataFrame(data)


def _full_alignment(traj: Trajectory, n: int) -> np.ndarray:
    r = traj.alignment.shape[0]
    out = np.broadcast_to(np.eye(n), (r, n, n)).copy()
    for p, (i, j) in enumerate(traj.pairs):
        out[:, i, j] = out[:, j, i] = traj.alignment[:, -1, p]
    return out


def _response(actions: np.ndarray, bmonth: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The victim's modal action in the window after the first betrayal (ties: first action)."""
    t = np.arange(1, actions.shape[1] + 1)
    window = (
        (t > bmonth[:, None]) & (t <= bmonth[:, None] + RESPONSE_WINDOW) & (bmonth[:, None] > 0)
    )
    counts = np.stack([((actions == k) & window).sum(axis=1) for k in range(len(names))], axis=1)
    labels = np.array(names, dtype=object)[counts.argmax(axis=1)]
    return np.where(counts.sum(axis=1) > 0, labels, NO_RESPONSE)


def _bloc_names(blocs: np.ndarray, actors: tuple[str, ...]) -> np.ndarray:
    """Readable configuration names, e.g. 'iran+russia | gulf+united_states'."""
    codes, inverse = np.unique(blocs, axis=0, return_inverse=True)
    names = []
    for code in codes:
        sides = ["+".join(a for a, c in zip(actors, code, strict=True) if c == s) for s in (0, 1)]
        names.append(" | ".join(s for s in sides if s) or "")
    return np.array(names, dtype=object)[inverse.reshape(-1)]
