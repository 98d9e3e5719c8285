"""Outcomes: declared once (name, unit, description) and computed from trajectories.

What a run is scored on comes from the scenario's outcome declarations (`[outcomes.X]` with a
``kind``), so a case with other actors declares its own and needs no placeholder tables:

- ``partnership``: a pair's alignment above a threshold for k consecutive months;
- ``defection``: one actor's action against another (C11's betrayal), counted in episodes
  (maximal spells of the action), with the offers that made it possible and the victim's
  response;
- ``balance``: one actor's alignment with one side minus its alignment with the other (C15's
  hedging), and whether it stays within a band.

Every run also reports the bloc structure (landscape theory), whether it changed from the
start, and how often each actor changed policy. Column names are plain identifiers (SQL
friendly): per-month columns are ``alignment__<a>__<b>`` and ``action__<actor>``. The CLI, the
results store, the figures and the Mesa model's DataCollector all use these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model import landscape
from sim.model.engine import Trajectory
from sim.model.params import Params
from sim.scenario import calendar
from sim.scenario.sections import OutcomeSpec

NO_RESPONSE = "none"
RESPONSE_WINDOW = 12  # months after a betrayal over which the victim's response is read
SEP = "__"  # separates actor ids in per-month column names (actor ids may hold "_")


@dataclass(frozen=True)
class Outcome:
    """A declared outcome: its column name, unit and a description an analyst can read."""

    name: str
    unit: str
    description: str
    kind: str = "scalar"  # "scalar" (one value per run) or "series" (one per run and month)


def pair_column(a: str, b: str) -> str:
    """The per-month alignment column of actors ``a`` and ``b`` (file order)."""
    return f"alignment{SEP}{a}{SEP}{b}"


def action_column(actor: str) -> str:
    """The per-month action column of ``actor``."""
    return f"action{SEP}{actor}"


def pair_of(column: str) -> tuple[str, str]:
    """The two actor ids of an alignment column."""
    _, a, b = column.split(SEP)
    return a, b


def _alignment_prefix(spec: OutcomeSpec, first: bool) -> str:
    # The first declared partnership's pair is "the" alignment of the scenario (fan charts,
    # headline tables); further partnerships prefix their own id.
    return "alignment" if first else f"{spec.id}_alignment"


def _balance_prefix(spec: OutcomeSpec) -> str:
    return spec.id


def declared(params: Params, labels: dict[str, str] | None = None) -> tuple[Outcome, ...]:
    """The outcomes of a scenario, with descriptions naming its actors."""
    lab = labels or {}

    def name(actor: str) -> str:
        return lab.get(actor, actor)

    out: list[Outcome] = []
    first_pair = True
    for spec in params.outcome_specs:
        f = spec.fields
        if spec.kind == "partnership":
            a, b = (name(x) for x in f["actors"])
            pre = _alignment_prefix(spec, first_pair)
            if first_pair:
                out.append(Outcome("alignment", "index in [-1, 1]", f"{a}-{b} alignment", "series"))
            first_pair = False
            out += [
                Outcome(
                    spec.id,
                    "true/false",
                    f"{f['label']}: {a}-{b} alignment above {f['threshold']:g} for "
                    f"{f['months']} consecutive months",
                ),
                Outcome(f"{spec.id}_month", "month", "Month it was reached (empty if never)"),
                Outcome(f"{spec.id}_date", "YYYY-MM", "Calendar month it was reached"),
                Outcome(f"{pre}_final", "index in [-1, 1]", f"{a}-{b} alignment at the horizon"),
                Outcome(f"{pre}_mean", "index in [-1, 1]", f"{a}-{b} alignment, mean over months"),
            ]
        elif spec.kind == "defection":
            actor, victim = name(f["actor"]), name(f["victim"])
            i = spec.id
            out += [
                Outcome(i, "true/false", f"{f['label']}: {actor} at least once ({f['action']})"),
                Outcome(f"{i}_month", "month", f"Month of the first {i} (empty if none)"),
                Outcome(f"{i}_date", "YYYY-MM", f"Calendar month of the first {i}"),
                Outcome(f"{i}_episodes", "count", f"Number of {i} episodes (spells of the action)"),
                Outcome(f"{i}_length", "months", f"Length of the first {i} episode"),
                Outcome(f"{i}_offered", "true/false", f"An offer that makes {i} possible was made"),
                Outcome(f"{i}_wait", "months", f"Months from the first offer to the first {i}"),
                Outcome(
                    f"{i}_response",
                    "action",
                    f"{victim}'s most frequent action in the {RESPONSE_WINDOW} months after the "
                    f"first {i} ('{NO_RESPONSE}' if none)",
                ),
            ]
        else:
            h, east, west = (name(f[k]) for k in ("actor", "east", "west"))
            pre = _balance_prefix(spec)
            out += [
                Outcome(
                    pre,
                    "true/false",
                    f"{f['label']}: {h} ends with |alignment with {east} - alignment with {west}| "
                    f"<= {f['band']:g} (keeps both sides)",
                ),
                Outcome(
                    f"{pre}_final",
                    "index in [-2, 2]",
                    f"{h}'s balance index at the horizon: alignment with {east} minus with {west}",
                ),
                Outcome(
                    f"{pre}_mean", "index in [-2, 2]", f"{h}'s balance index, mean over months"
                ),
            ]
    if params.hedging is not None:
        h, east, west = (name(params.actors[k]) for k in params.hedging)
        out.insert(
            0,
            Outcome(
                "hedging",
                "index in [-2, 2]",
                f"{h}'s balance index: alignment with {east} minus alignment with {west}",
                "series",
            ),
        )
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


def episodes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(number of episodes, length of the first) of spells of True along axis 1."""
    padded = np.pad(mask, ((0, 0), (1, 0)))
    starts = mask & ~padded[:, :-1]
    count = starts.sum(axis=1)
    first = first_true(mask)
    t = np.arange(1, mask.shape[1] + 1)
    after = t[None, :] >= first[:, None]
    # The first episode ends at the first False after it starts.
    ended = ~mask & after & (first[:, None] > 0)
    end = np.where(ended.any(axis=1), ended.argmax(axis=1) + 1, mask.shape[1] + 1)
    length = np.where(first > 0, end - first, 0)
    return count, length


def _dates(months: np.ndarray, start: str) -> pd.Series:
    """Calendar months ("YYYY-MM") of 1-based months, empty where the month is 0."""
    values = [calendar.date_of(int(m), start) if m > 0 and start else None for m in months]
    return pd.Series(np.array(values, dtype=object), dtype="str").array


def _optional(months: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.array(np.where(months > 0, months, None), dtype="Int64")


def run_table(
    traj: Trajectory, params: Params, replicate: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per run with every scalar outcome."""
    r = traj.alignment.shape[0]
    table: dict[str, object] = {
        "replicate": np.arange(r) if replicate is None else np.asarray(replicate)
    }
    first_pair = True
    for spec in params.outcome_specs:
        f = spec.fields
        if spec.kind == "partnership":
            i, j = (params.actors.index(a) for a in f["actors"])
            months = traj.pair_series(i, j).astype(np.float64)[:, 1:]
            reached = partnership_months(months, f["threshold"], f["months"])
            pre = _alignment_prefix(spec, first_pair)
            first_pair = False
            table[spec.id] = reached > 0
            table[f"{spec.id}_month"] = _optional(reached)
            table[f"{spec.id}_date"] = _dates(reached, traj.start)
            table[f"{pre}_final"] = months[:, -1]
            table[f"{pre}_mean"] = months.mean(axis=1)
        elif spec.kind == "defection":
            table.update(_defection(traj, params, spec))
        else:
            h, east, west = (params.actors.index(f[k]) for k in ("actor", "east", "west"))
            index = (traj.pair_series(h, east) - traj.pair_series(h, west)).astype(np.float64)
            table[spec.id] = np.abs(index[:, -1]) <= f["band"]
            table[f"{spec.id}_final"] = index[:, -1]
            table[f"{spec.id}_mean"] = index[:, 1:].mean(axis=1)

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


def policy_changes(actions: np.ndarray, policy0: np.ndarray) -> np.ndarray:
    """Number of months in which each actor's action differs from the month before, (R, N);
    month 1 counts as a change when it differs from a declared starting policy.
    """
    acts = actions.astype(np.int64)
    changes = (acts[:, 1:] != acts[:, :-1]).sum(axis=1)
    start = np.broadcast_to(policy0, changes.shape)
    return changes + ((start >= 0) & (acts[:, 0] != start))


def _defection(traj: Trajectory, params: Params, spec: OutcomeSpec) -> dict[str, object]:
    f, i = spec.fields, spec.id
    actor, victim = params.actors.index(f["actor"]), params.actors.index(f["victim"])
    action = params.actions[actor].index(f["action"])
    mask = traj.actions[:, :, actor] == action
    first = first_true(mask)
    count, length = episodes(mask)
    out: dict[str, object] = {
        i: first > 0,
        f"{i}_month": _optional(first),
        f"{i}_date": _dates(first, traj.start),
        f"{i}_episodes": count,
        f"{i}_length": _optional(length),
    }
    deal = [
        x
        for x in range(len(params.deals))
        if params.deal_actor[x] == actor and params.deal_action[x] == action
    ]
    if deal:
        offered = traj.offers[:, :, deal[0]]
        first_offer = first_true(offered)
        out[f"{i}_offered"] = first_offer > 0
        out[f"{i}_wait"] = pd.array(
            np.where((first > 0) & (first_offer > 0), first - first_offer, None), dtype="Int64"
        )
    else:  # a defection open at any time: no offer is needed
        out[f"{i}_offered"] = np.ones(len(first), dtype=bool)
        out[f"{i}_wait"] = _optional(first)
    names = params.actions[victim]
    out[f"{i}_response"] = pd.Categorical(
        _response(traj.actions[:, :, victim], first, names), categories=[NO_RESPONSE, *names]
    )
    return out


def series_table(
    traj: Trajectory, params: Params, replicate: np.ndarray | None = None
) -> pd.DataFrame:
    """Per-month trajectories, long by (replicate, month): the calendar month, the alignment
    of every pair, the first balance index and each actor's action (month 0 is the initial
    state; its action is the policy held at the start, empty if none was declared).
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
    if params.hedging is not None:
        h, east, west = params.hedging
        data["hedging"] = (traj.pair_series(h, east) - traj.pair_series(h, west)).reshape(-1)
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
