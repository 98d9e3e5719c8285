"""Outcome kind ``defection``: one actor's action against another (C11's betrayal).

Declared as ``[outcomes.X] kind = "defection"`` with ``actor``, ``action`` (one of the actor's)
and ``victim``. Counted in episodes (maximal spells of the action), with the offer that made
it possible and the victim's most frequent action in the `RESPONSE_WINDOW` months after the
first episode. That action is called a response only if it differs from what the victim does
anyway: the summary compares the victim's actions in those windows with its actions in every
other month (`response_rows`), and says so in words when they are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.outcomes.columns import action_column, dates, episodes, first_true, optional
from sim.model.outcomes.kind import BaseKind, Context, Figure, Headlines, Outcome
from sim.model.outcomes.registry import register

if TYPE_CHECKING:
    from sim.model.engine import Trajectory
    from sim.model.params import Params
    from sim.scenario.checker import Checker
    from sim.scenario.sections import OutcomeSpec

NO_RESPONSE = "none"
RESPONSE_WINDOW = 12  # months after a betrayal over which the victim's response is read
# An action is a response when its share of the victim's months in the windows after a first
# episode differs from its share in all other months by at least this much (10 points): the
# baseline's victim picks its usual action in 98% of ordinary months, so anything closer is
# what it does anyway.
RESPONSE_DIFFERENCE = 0.1
NOT_A_RESPONSE = "no distinct response"


def response(actions: np.ndarray, bmonth: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The victim's modal action in the window after the first defection (ties: first action),
    or `NO_RESPONSE` where there was none. ``actions`` is (R, T) action indices over months 1..T.
    """
    t = np.arange(1, actions.shape[1] + 1)
    window = (
        (t > bmonth[:, None]) & (t <= bmonth[:, None] + RESPONSE_WINDOW) & (bmonth[:, None] > 0)
    )
    counts = np.stack([((actions == k) & window).sum(axis=1) for k in range(len(names))], axis=1)
    labels = np.array(names, dtype=object)[counts.argmax(axis=1)]
    return np.where(counts.sum(axis=1) > 0, labels, NO_RESPONSE)


def action_shares(
    runs: pd.DataFrame, series: pd.DataFrame, oid: str, victim: str
) -> tuple[pd.Series, pd.Series] | None:
    """The victim's action shares over its months inside the response windows and over all
    other months 1..T, from the per-month table; None if the tables cannot be matched.
    """
    col = action_column(victim)
    month_col = f"{oid}_month"
    if col not in series or month_col not in runs or "replicate" not in runs:
        return None
    first = runs.set_index("replicate")[month_col]
    if not first.index.is_unique:
        return None
    m = series["month"].to_numpy()
    # Each month's replicate mapped to that replicate's first month (0: none), through arrays:
    # a large run's per-month table has millions of rows.
    reps = series["replicate"].to_numpy()
    known = first.index.to_numpy(dtype=np.int64)
    firsts = first.fillna(0).to_numpy(dtype=np.int32)
    if len(known) and known.min() >= 0 and known.max() < 10 * len(known) + 1_000:
        lookup = np.zeros(int(known.max()) + 1, dtype=np.int32)  # replicate -> first month
        lookup[known] = firsts
        inside_ids = (reps >= 0) & (reps <= known.max())
        b = np.where(inside_ids, lookup[np.clip(reps, 0, known.max())], 0)
    else:  # sparse replicate numbers: look them up by binary search
        order = np.argsort(known, kind="stable")
        pos = np.clip(np.searchsorted(known[order], reps), 0, len(known) - 1)
        b = np.where(known[order][pos] == reps, firsts[order][pos], 0)
    valid = m >= 1
    inside = valid & (b > 0) & (m > b) & (m <= b + RESPONSE_WINDOW)
    outside = valid & ~inside
    acts = series[col]
    if isinstance(acts.dtype, pd.CategoricalDtype):
        codes, names = acts.cat.codes.to_numpy(), np.asarray(acts.cat.categories, dtype=object)
    else:
        names, codes = np.unique(acts.astype(str).to_numpy(), return_inverse=True)

    def shares(mask: np.ndarray) -> pd.Series:
        counts = np.bincount(codes[mask], minlength=len(names))
        total = counts.sum()
        out = pd.Series(counts / total if total else counts * 0.0, index=names.astype(str))
        out = out[counts > 0]
        # most frequent first; ties in the categories' order (value_counts' order)
        return out.iloc[np.argsort(-out.to_numpy(), kind="stable")]

    return shares(inside), shares(outside)


class Defection(BaseKind):
    """One actor's action against another, e.g. Russia's betrayal of Iran in Syria (C11)."""

    name = "defection"
    keys = ("actor", "action", "victim")
    event = True
    wanted = False

    def declare(
        self, c: Checker, doc: Mapping[str, Any], field: str, actions: Mapping[str, tuple[str, ...]]
    ) -> dict[str, Any]:
        """Check ``actor``, ``action`` (one of its actions) and ``victim`` (another actor)."""
        ids = tuple(actions)
        actor = c.member(doc, field, "actor", ids)
        return {
            "actor": actor,
            "action": c.member(doc, field, "action", actions[actor]),
            "victim": c.member(doc, field, "victim", tuple(a for a in ids if a != actor)),
        }

    def outcomes(self, spec: OutcomeSpec, ctx: Context) -> tuple[Outcome, ...]:
        """Whether, when and how often it happened, its offer and the victim's response."""
        f, i = spec.fields, spec.id
        actor, victim = ctx.label(f["actor"]), ctx.label(f["victim"])
        return (
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
        )

    def columns(
        self, spec: OutcomeSpec, traj: Trajectory, params: Params, ctx: Context
    ) -> dict[str, Any]:
        """Episodes of the action, the offer that opened it and the victim's response."""
        f, i = spec.fields, spec.id
        actor, victim = params.actors.index(f["actor"]), params.actors.index(f["victim"])
        action = params.actions[actor].index(f["action"])
        mask = traj.actions[:, :, actor] == action
        first = first_true(mask)
        count, length = episodes(mask)
        out: dict[str, Any] = {
            i: first > 0,
            f"{i}_month": optional(first),
            f"{i}_date": dates(first, traj.start),
            f"{i}_episodes": count,
            f"{i}_length": optional(length),
        }
        deal = [
            x
            for x in range(len(params.deals))
            if params.deal_actor[x] == actor and params.deal_action[x] == action
        ]
        if deal:
            first_offer = first_true(traj.offers[:, :, deal[0]])
            out[f"{i}_offered"] = first_offer > 0
            out[f"{i}_wait"] = pd.array(
                np.where((first > 0) & (first_offer > 0), first - first_offer, None), dtype="Int64"
            )
        else:  # a defection open at any time: no offer is needed
            out[f"{i}_offered"] = np.ones(len(first), dtype=bool)
            out[f"{i}_wait"] = optional(first)
        names = params.actions[victim]
        out[f"{i}_response"] = pd.Categorical(
            response(traj.actions[:, :, victim], first, names), categories=[NO_RESPONSE, *names]
        )
        return out

    def headlines(self, spec: OutcomeSpec, h: Headlines, ctx: Context) -> None:
        """P(at least one episode), given an offer, when and how long, and what the victim
        does after it (compared with what it does in other months).
        """
        f, i, runs = spec.fields, spec.id, h.runs
        actor = ctx.label(f["actor"])
        h.share(f"P({i}: at least one episode)", i, f"{actor} chooses {f['action']}", i, "p")
        if f"{i}_offered" in runs:
            offered = runs[f"{i}_offered"].astype(bool)
            note = "among runs with an offer"
            h.share(f"P({i} | an offer was made)", i, note, i, "p_offered", among=offered)
        when = "among runs with one" + h.date_note(f"{i}_date")
        h.median(f"median month of first {i}", f"{i}_month", when, i, "median_month")
        h.median(
            f"median months from offer to {i}", f"{i}_wait", "among runs with one", i, "median_wait"
        )
        h.median(f"median length of first {i} episode", f"{i}_length", "months", i, "median_length")
        if f"{i}_episodes" in runs:
            h.value(
                f"mean {i} episodes per run",
                float(runs[f"{i}_episodes"].mean()),
                "episodes: spells of the action",
                i,
                "mean_episodes",
            )
        if f"{i}_response" in runs:
            self._responses(spec, h, ctx)

    def _responses(self, spec: OutcomeSpec, h: Headlines, ctx: Context) -> None:
        i, runs = spec.id, h.runs
        victim_id = spec.fields["victim"]
        victim = ctx.label(victim_id)
        given = runs[f"{i}_response"].astype(str)
        done = given[given != NO_RESPONSE]
        if done.empty:
            return
        base = (
            f"share of runs with a {i}: most frequent action in the next {RESPONSE_WINDOW} months"
        )
        shares = None if h.series is None else action_shares(runs, h.series, i, victim_id)
        top = done.value_counts().index[0]
        flag = ""
        if shares is not None:
            inside, outside = shares
            usual = outside.index[0] if len(outside) else ""
            gap = abs(inside.get(top, 0.0) - outside.get(top, 0.0))
            if top == usual and gap < RESPONSE_DIFFERENCE:
                flag = NOT_A_RESPONSE
                h.value(
                    f"{victim} after a {i}",
                    top,
                    f"{top} in {inside.get(top, 0.0):.0%} of {victim}'s months after a {i}, as "
                    f"in {outside.get(top, 0.0):.0%} of months without one: what {victim} does "
                    f"anyway, not a response",
                    i,
                    "response",
                    flag=flag,
                )
        for act in done.value_counts().index:
            note = base
            if shares is not None:
                inside, outside = shares
                note += (
                    f"; {act} in {inside.get(act, 0.0):.0%} of months after a {i}, "
                    f"{outside.get(act, 0.0):.0%} of months without one"
                )
            among = runs[i].astype(bool)
            label = f"{victim}'s response: {act}"
            h.share(label, given == act, note, i, f"response:{act}", among=among, flag=flag)

    def figures(self, spec: OutcomeSpec, ctx: Context) -> tuple[Figure, ...]:
        """A histogram of the month of the first episode."""
        title = f"Month of first {spec.id}: {ctx.label(spec.fields['actor'])}"
        return (Figure("months_histogram", f"{spec.id}_month", f"{spec.id}_month", title),)


KIND = register(Defection())
