"""Explanations: why each actor chose what it chose, term by term of its expected utility.

Each month every actor weighs its actions by expected utility (stated in `sim.model.rules`,
run by the kernel `sim.model.kernel`), the sum of named terms: one per issue (what the action
does on the issue, weighted by the actor's position, salience and the month's stakes),
relations (consistency with alignment, reciprocity), trust (fear of abandonment), the cost of
dependence, a declared policy commitment and the cost of change (inertia, leaving a binding
deal). A logit choice over those utilities picks the action.

Only differences between actions matter to a logit choice, so an explanation compares the
chosen action with an alternative: the policy the actor held before (when it changed course)
or the best other action it could have taken. Runs are rerun from their random streams
(`sim.replay`), month by month by the kernel as the engine runs them (`sim.model.engine.steps`),
so the states explained are the states behind the stored results, and the utilities and their
terms are the kernel's own (`sim.model.kernel.utility_terms`).

- `terms` splits one month's utilities into the named terms;
- `aggregate` averages the chosen action's advantage over the runner-up, by term, over runs
  and months;
- `account` explains one actor's choice in one run and month (a text via `describe`, and the
  numbers for a waterfall figure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.model import kernel, rules
from sim.model.engine import Month
from sim.model.params import Params
from sim.replay import Replay, check

# Term ids after the issues (issue terms are "issue.<issue id>"), in `rules.TERMS` order.
RELATIONAL = rules.TERMS[1:]
LABELS = {
    "consistency": "relations: consistency with alignment",
    "reciprocity": "relations: reciprocity",
    "abandonment": "trust: fear of abandonment",
    "dependence": "cost of dependence",
    "commitment": "policy commitment",
    "change": "cost of change (inertia, leaving a deal)",
}


def term_ids(params: Params) -> tuple[str, ...]:
    """The names of the terms, issues first: ``issue.<id>`` then `RELATIONAL`."""
    return (*(f"issue.{k}" for k in params.issues), *RELATIONAL)


def label(term: str, issue_labels: dict[str, str] | None = None) -> str:
    """A reader's name for a term (issue terms use the issue's label when given)."""
    if term.startswith("issue."):
        k = term.removeprefix("issue.")
        return f"issue: {(issue_labels or {}).get(k, k)}"
    return LABELS.get(term, term)


def terms(state: rules.State, params: Params) -> np.ndarray:
    """Every actor's utility of every action split into named terms by the kernel,
    (R, N, Amax, X) in `term_ids` order; summed over the last axis it is the utility the
    kernel weighed (to rounding) wherever an action is allowed, 0 elsewhere.
    """
    return kernel.utility_terms(state, params)[1]


def _runner_up(eu: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The best action other than the chosen one, (R, N); -1 where there is none."""
    others = eu.copy()
    np.put_along_axis(others, chosen[..., None], -np.inf, axis=-1)
    best = others.argmax(axis=-1)
    top = np.take_along_axis(others, best[..., None], axis=-1)[..., 0]
    return np.where(np.isfinite(top), best, -1)


# --------------------------------------------------------------------------------------------
# Over runs and months


def aggregate(
    replay: Replay, replicates: np.ndarray | int, *, changes_only: bool = False
) -> pd.DataFrame:
    """Why each actor chose each action, on average: the chosen action's utility advantage
    over the best alternative, by term, averaged over runs and months.

    One row per (actor, action chosen at least once): ``months`` (actor-months in which it was
    chosen), ``share`` (of the actor's months), ``against`` (the alternative it was most often
    compared with), ``total`` (mean advantage, the sum of the term columns) and one column per
    term (`term_ids`). A positive term pulled toward the chosen action, a negative one away from
    it. With ``changes_only`` only months in which the actor changed policy count.
    """
    reps = np.arange(replicates) if np.ndim(replicates) == 0 else np.asarray(replicates)
    p = replay.params
    n, amax, x = len(p.actors), p.valid.shape[1], len(term_ids(p))
    sums = np.zeros((n, amax, x))
    counts = np.zeros((n, amax), dtype=np.int64)
    vs = np.zeros((n, amax, amax), dtype=np.int64)
    total_months = np.zeros(n, dtype=np.int64)
    for step in replay.steps(reps):
        split = terms(step.state, step.params)
        eu = step.utility
        chosen = step.chosen
        alt = _runner_up(eu, chosen)
        keep = alt >= 0
        if changes_only:
            keep &= chosen != step.state.actions
        total_months += keep.sum(axis=0)
        take = np.take_along_axis
        adv = (
            take(split, chosen[..., None, None], axis=2)[:, :, 0]
            - take(split, np.maximum(alt, 0)[..., None, None], axis=2)[:, :, 0]
        )
        for i in range(n):
            rows = keep[:, i]
            if not rows.any():
                continue
            np.add.at(sums[i], chosen[rows, i], adv[rows, i])
            np.add.at(counts[i], chosen[rows, i], 1)
            np.add.at(vs[i], (chosen[rows, i], alt[rows, i]), 1)
    ids = term_ids(p)
    records = []
    for i, actor in enumerate(p.actors):
        for a, action in enumerate(p.actions[i]):
            if counts[i, a] == 0:
                continue
            mean = sums[i, a] / counts[i, a]
            records.append(
                {
                    "actor": actor,
                    "action": action,
                    "months": int(counts[i, a]),
                    "share": counts[i, a] / max(total_months[i], 1),
                    "against": p.actions[i][int(vs[i, a].argmax())],
                    "total": float(mean.sum()),
                    **dict(zip(ids, mean, strict=True)),
                }
            )
    cols = ["actor", "action", "months", "share", "against", "total", *ids]
    return pd.DataFrame.from_records(records, columns=cols)


# --------------------------------------------------------------------------------------------
# One run, one month


@dataclass(frozen=True)
class Account:
    """Why one actor chose what it chose in one run and month."""

    actor: str
    actor_label: str
    replicate: int
    month: int
    date: str
    source: str
    chosen: str
    chosen_label: str
    held: str | None  # the policy held going into the month (None: none declared)
    against: str  # the alternative the choice is compared with
    against_label: str
    why_against: str  # "the policy it held" / "the best alternative" / "asked for"
    probabilities: dict[str, float]  # logit probability of each allowed action this month
    terms: dict[str, float]  # term id -> utility of chosen minus utility of the alternative
    term_labels: dict[str, str]
    context: tuple[str, ...]  # what was on the table: offers, events, stakes, trust

    @property
    def total(self) -> float:
        """The chosen action's utility advantage over the alternative (sum of the terms)."""
        return float(sum(self.terms.values()))


def _find_month(replay: Replay, replicate: int, month: int) -> Month:
    for step in replay.steps(np.array([replicate])):
        if step.month == month:
            return step
    raise SimInputError("outside the simulated months", field="--month", found=month)


def default_month(replay: Replay, replicate: int, actor: str) -> tuple[int, str]:
    """The month worth explaining in a run when none is named, and why it was chosen: the
    actor's first declared defection (a betrayal), else its first change of policy, else 1.
    """
    p = replay.params
    i = p.actors.index(actor)
    acts = replay.simulate(np.array([replicate])).actions[0, :, i].astype(np.int64)
    for spec in replay.scenario.outcomes:
        if spec.fields.get("actor") == actor and "action" in spec.fields:  # a defection
            hit = np.flatnonzero(acts == p.actions[i].index(spec.fields["action"]))
            if len(hit):
                return int(hit[0]) + 1, f"the first {spec.id} in this run"
    before = np.r_[p.policy0[i], acts[:-1]]
    changed = np.flatnonzero(acts != before)
    if len(changed):
        return int(changed[0]) + 1, f"the first month {actor} changed policy in this run"
    return 1, f"{actor} never changed policy in this run: month 1"


def account(
    replay: Replay,
    replicate: int,
    month: int,
    actor: str,
    against: str | None = None,
) -> Account:
    """Explain ``actor``'s choice in run ``replicate``, month ``month`` (1-based).

    The run is rerun from its stream; for a results directory the rerun is first checked
    against the stored run (`sim.replay.check`). The choice is compared with ``against``, or
    else with the policy held before (if the actor changed course) or the best alternative.
    """
    p = replay.params
    if actor not in p.actors:
        raise SimInputError(
            "unknown actor", field="--actor", found=actor, allowed=", ".join(p.actors)
        )
    replay.check_replicate(replicate)
    if not 1 <= month <= replay.months:
        raise SimInputError(
            "outside the simulated months",
            field="--month",
            found=month,
            allowed=f"1 to {replay.months}",
        )
    reps = np.array([replicate])
    check(replay, reps, replay.simulate(reps))
    i = p.actors.index(actor)
    step = _find_month(replay, replicate, month)
    split = terms(step.state, step.params)[0, i]  # (Amax, X)
    eu = step.utility[0, i]
    probs = step.weights[0, i] / step.weights[0, i].sum()
    names = p.actions[i]
    c = int(step.chosen[0, i])
    h = int(step.state.actions[0, i])
    if against is not None:
        if against not in names:
            raise SimInputError(
                "unknown action of this actor",
                field="--against",
                found=against,
                allowed=", ".join(names),
            )
        b, why = names.index(against), "asked for"
        if not np.isfinite(eu[b]):
            raise SimInputError(
                "this action was not open to the actor that month",
                field="--against",
                found=against,
                allowed=", ".join(n for k, n in enumerate(names) if np.isfinite(eu[k])),
            )
    elif h >= 0 and h != c and np.isfinite(eu[h]):
        b, why = h, "the policy it held"
    else:
        b = int(_runner_up(eu[None, None], np.array([[c]]))[0, 0])
        why = "the best alternative"
        if b < 0:
            b, why = c, "no alternative was open"
    ids = term_ids(p)
    sc = replay.scenario
    actor_doc = sc.actor(actor)
    action_label = {a.id: a.label for a in actor_doc.actions}
    issue_labels = {x.id: x.label for x in sc.issues}
    return Account(
        actor=actor,
        actor_label=actor_doc.label,
        replicate=int(replicate),
        month=int(month),
        date=sc.date(month),
        source=replay.source,
        chosen=names[c],
        chosen_label=action_label[names[c]],
        held=names[h] if h >= 0 else None,
        against=names[b],
        against_label=action_label[names[b]],
        why_against=why,
        probabilities={names[k]: float(probs[k]) for k in range(len(names)) if np.isfinite(eu[k])},
        terms={t: float(v) for t, v in zip(ids, split[c] - split[b], strict=True)},
        term_labels={t: label(t, issue_labels) for t in ids},
        context=_context(replay, step, i),
    )


def _context(replay: Replay, step: Month, i: int) -> tuple[str, ...]:
    """What the actor faced this month: events, offers, stakes off their baseline, trust."""
    p, sc = step.params, replay.scenario
    lines = []
    fired = [sc.events[e].label for e in np.flatnonzero(step.fired[0])]
    if fired:
        lines.append("events this month: " + "; ".join(fired))
    for x, deal in enumerate(p.deals):
        label_ = next(d.label for d in sc.deals if d.id == deal)
        if step.state.in_deal[0, x]:
            lines.append(
                f"in the deal '{label_}' ({int(step.state.bound_left[0, x])} months still bind)"
            )
        elif step.state.offer_left[0, x] > 0:
            lines.append(
                f"on the table: '{label_}' ({int(step.state.offer_left[0, x])} months left)"
            )
    base = np.broadcast_to(p.stake_base, step.state.stakes.shape)[0]
    for k, issue in enumerate(sc.issues):
        z = step.state.stakes[0, k]
        if abs(z - base[k]) > 0.05:
            lines.append(f"stakes on {issue.id}: {z:.2f} (baseline {base[k]:.2f})")
    tau = rules.trust_level(step.state.favourable, step.state.unfavourable)[0]
    for j, other in enumerate(p.actors):
        if j == i:
            continue
        lines.append(
            f"{sc.label(other)}: alignment {step.state.alignment[0, i, j]:+.2f}, "
            f"trust {tau[i, j]:.2f}, its last stance toward {sc.label(p.actors[i])} "
            f"{step.state.stance[0, j, i]:+.2f}"
        )
    return tuple(lines)


def describe(acc: Account, top: int = 6) -> str:
    """The account as a few lines of text for an analyst."""
    held = f"it held '{acc.held}' going in" if acc.held else "it held no declared policy"
    p = acc.probabilities.get(acc.chosen, float("nan"))
    lines = [
        f"Run {acc.replicate} ({acc.source}), {acc.date} (month {acc.month}): "
        f"{acc.actor_label} chose '{acc.chosen}' ({acc.chosen_label}), probability {p:.2f} "
        f"that month; {held}.",
    ]
    if acc.against == acc.chosen:
        lines.append("No other action was open to it.")
    else:
        lines.append(
            f"Against '{acc.against}' ({acc.why_against}), '{acc.chosen}' was worth "
            f"{acc.total:+.3f} in expected utility:"
        )
        ranked = sorted(acc.terms.items(), key=lambda kv: -abs(kv[1]))
        shown = [(t, v) for t, v in ranked[:top] if abs(v) >= 5e-4]
        for t, v in shown:
            lines.append(f"  {v:+.3f}  {acc.term_labels[t]}")
        rest = sum(v for t, v in ranked if (t, v) not in shown)
        if abs(rest) >= 5e-4:
            lines.append(f"  {rest:+.3f}  other terms")
    probs = ", ".join(
        f"{a} {q:.2f}" for a, q in sorted(acc.probabilities.items(), key=lambda kv: -kv[1])
    )
    lines.append(f"Choice probabilities (logit): {probs}.")
    if acc.context:
        lines.append("What it faced:")
        lines += [f"  {c}" for c in acc.context]
    return "\n".join(lines)


def describe_aggregate(table: pd.DataFrame, labels: dict[str, str], top: int = 4) -> str:
    """The aggregate table as text: per actor and action, the terms that pulled most."""
    lines = []
    for actor, rows in table.groupby("actor", sort=False):
        lines.append(f"{actor}:")
        for r in rows.to_dict("records"):
            ranked = sorted(((t, r[t]) for t in labels if t in r), key=lambda kv: -abs(kv[1]))[:top]
            drivers = "; ".join(f"{labels[t]} {v:+.3f}" for t, v in ranked)
            lines.append(
                f"  {r['action']:<16} {r['share']:6.1%} of months, over '{r['against']}' by "
                f"{r['total']:+.3f}: {drivers}"
            )
    return "\n".join(lines)
