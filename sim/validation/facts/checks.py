"""Stylized-fact checks declared beside a scenario (``scenarios/checks/<name>.toml``).

A check names what the article says (claims, statement), the statistic that measures it on a
seeded set of runs (its ``kind`` and that kind's fields), a target and why that target. The
kinds are generic, so a case with other actors declares its own checks with no code:

- ``share_of_runs``: share of runs whose run-table ``outcome`` is true (or above/below a
  value), or whose ``pair`` alignment at the horizon is above/below a value;
- ``action_share``: share of months in which ``actor`` chose one of ``actions`` (optionally only
  months in which ``event`` fired), pooled over runs;
- ``rate_ratio``: monthly rate of ``actor`` choosing ``action`` in the ``window`` months from an
  ``event``, divided by the rate in the other months;
- ``paired_effect``: mean over runs of (the scenario minus the same runs with ``overrides``) of
  a run-table ``outcome`` or of a ``pair``'s alignment at ``month`` (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario import Scenario, read_toml
from sim.scenario.checker import Checker
from sim.scenario.evidence import extends_chain

KINDS = {
    "share_of_runs": ("outcome", "pair", "above", "below"),
    "action_share": ("actor", "actions", "event"),
    "rate_ratio": ("actor", "action", "event", "window"),
    "paired_effect": ("outcome", "pair", "month", "overrides"),
}
COMMON = ("kind", "claims", "statement", "op", "target", "why")
OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class CheckSpec:
    """One declared check: its id, kind, claims, statement, target and the kind's fields."""

    id: str
    kind: str
    claims: tuple[str, ...]
    statement: str
    op: str
    target: float
    why: str
    fields: Mapping[str, Any]


def checks_path(scenario_path: str | Path) -> Path | None:
    """The checks file of a scenario: its own, else the nearest along its ``extends`` chain."""
    for path in extends_chain(scenario_path):
        candidate = path.parent / "checks" / f"{path.stem}.toml"
        if candidate.is_file():
            return candidate
    return None


def load_checks(path: str | Path, scenario: Scenario) -> tuple[CheckSpec, ...]:
    """Read and validate a checks file against the scenario it checks."""
    c = Checker(str(path))
    doc = read_toml(Path(path))
    c.keys(doc, "", ("checks",))
    out = []
    for cid, d in c.ids(c.table(doc, "", "checks"), "checks").items():
        f = f"checks.{cid}"
        if not isinstance(d, Mapping):
            c.fail(f, "expected a table", found=d)
        kind = c.member(d, f, "kind", tuple(KINDS))
        c.keys(d, f, (*COMMON, *KINDS[kind]))
        claims = d.get("claims")
        if not isinstance(claims, list) or not all(isinstance(x, str) for x in claims):
            c.fail(f + ".claims", "expected a list of claim ids", found=claims)
        out.append(
            CheckSpec(
                id=cid,
                kind=kind,
                claims=tuple(claims),
                statement=c.text(d, f, "statement"),
                op=c.member(d, f, "op", OPS),
                target=c.number(d, f, "target"),
                why=c.text(d, f, "why"),
                fields=_fields(c, f, kind, d, scenario),
            )
        )
    return tuple(out)


def _fields(c: Checker, f: str, kind: str, d: Mapping, sc: Scenario) -> dict[str, Any]:
    actors = sc.actor_ids
    events = tuple(e.id for e in sc.events)
    out: dict[str, Any] = {}
    if "pair" in d:
        pair = d["pair"]
        if not (isinstance(pair, list) and len(pair) == 2 and set(pair) <= set(actors)):
            c.fail(f + ".pair", "expected two actors", found=pair, allowed=", ".join(actors))
        out["pair"] = tuple(pair)
    if "outcome" in d:
        out["outcome"] = c.text(d, f, "outcome")
    if kind in ("share_of_runs", "paired_effect") and ("pair" in d) == ("outcome" in d):
        c.fail(f, "give exactly one of outcome or pair")
    for key in ("above", "below"):
        if key in d:
            out[key] = c.number(d, f, key)
    if "actor" in d:
        out["actor"] = c.member(d, f, "actor", actors)
        names = tuple(a.id for a in sc.actor(out["actor"]).actions)
        if "actions" in d:
            acts = d["actions"]
            if not isinstance(acts, list) or not acts or not set(acts) <= set(names):
                c.fail(
                    f + ".actions",
                    "expected a list of the actor's actions",
                    found=acts,
                    allowed=", ".join(names),
                )
            out["actions"] = tuple(acts)
        if "action" in d:
            out["action"] = c.member(d, f, "action", names)
    if "event" in d:
        out["event"] = c.member(d, f, "event", events)
    if "window" in d:
        out["window"] = c.number(d, f, "window", 1, 1000, integer=True)
    if "month" in d:
        out["month"] = c.number(d, f, "month", 0, sc.months, integer=True)
    if "overrides" in d:
        ov = c.table(d, f, "overrides")
        known = sc.parameters()
        for name in ov:
            if name not in known:
                c.fail(f'{f}.overrides."{name}"', "unknown parameter of the scenario")
        out["overrides"] = dict(ov)
    need = {
        "action_share": ("actor", "actions"),
        "rate_ratio": ("actor", "action", "event", "window"),
        "paired_effect": ("overrides",),
    }.get(kind, ())
    for key in need:
        if key not in out:
            c.fail(f"{f}.{key}", f"a {kind} check needs {key}")
    if kind == "paired_effect" and "pair" in out and "month" not in out:
        c.fail(f + ".month", "a paired_effect check on a pair needs the month to compare")
    return out


# --------------------------------------------------------------------------------------------
# Statistics. Each returns (statistic, interval or None, detail, kind of statistic, applicable).

Stat = tuple[float, tuple[float, float] | None, str, str, bool]


def wilson(successes: float, n: int) -> tuple[float, float]:
    """Wilson score 95% interval for a binomial share (the one `sim.analysis` reports)."""
    from sim import analysis

    _, low, high = analysis.wilson(int(successes), n)
    return (low, high)


def paired_interval(diff: np.ndarray, z: float = 1.959964) -> tuple[float, float]:
    """Normal 95% interval of the mean of paired differences."""
    n = len(diff)
    if n < 2:
        return (math.nan, math.nan)
    m, se = float(diff.mean()), float(diff.std(ddof=1)) / math.sqrt(n)
    return (m - z * se, m + z * se)


def statistic(spec: CheckSpec, base: Any, rerun: Callable[[Mapping[str, Any]], Any]) -> Stat:
    """The statistic of ``spec`` on the sample ``base`` (rerun for paired effects)."""
    return _STATS[spec.kind](spec, base, rerun)


def _share(hits: np.ndarray, wilson: Callable) -> Stat:
    hits = np.asarray(hits, dtype=bool).reshape(-1)
    n = len(hits)
    if n == 0:
        return math.nan, None, "no cases", "share", False
    k = int(hits.sum())
    return k / n, wilson(k, n), f"{k} of {n}", "share", True


def _pair_final(base: Any, pair: tuple[str, str], month: int = -1) -> np.ndarray:
    i, j = (base.params.actors.index(a) for a in pair)
    return base.traj.pair_series(i, j)[:, month].astype(float)


def _share_of_runs(spec: CheckSpec, base: Any, rerun: Callable) -> Stat:
    f = spec.fields
    if "pair" in f:
        values = _pair_final(base, f["pair"])
    else:
        if f["outcome"] not in base.runs:
            return math.nan, None, f"no outcome {f['outcome']}", "share", False
        values = base.runs[f["outcome"]].to_numpy()
    if "above" in f:
        hits = values.astype(float) > f["above"]
    elif "below" in f:
        hits = values.astype(float) < f["below"]
    else:
        hits = values.astype(bool)
    return _share(hits, wilson)


def _action_share(spec: CheckSpec, base: Any, rerun: Callable) -> Stat:
    f, p = spec.fields, base.params
    i = p.actors.index(f["actor"])
    codes = [p.actions[i].index(a) for a in f["actions"]]
    hits = np.isin(base.traj.actions[:, :, i], codes)
    if "event" in f:
        hits = hits[base.traj.fired[:, :, p.events.index(f["event"])]]
    stat = _share(hits, wilson)
    where = f" of {f['event']} months" if "event" in f else " of months"
    return stat[0], stat[1], stat[2] + where, stat[3], stat[4]


def _rate_ratio(spec: CheckSpec, base: Any, rerun: Callable) -> Stat:
    f, p = spec.fields, base.params
    i = p.actors.index(f["actor"])
    offer = base.traj.fired[:, :, p.events.index(f["event"])]
    act = base.traj.actions[:, :, i] == p.actions[i].index(f["action"])
    window = f["window"]
    # after[r, t]: the event fired in one of months t-window+1 .. t (events act before choices)
    csum = np.cumsum(np.pad(offer, ((0, 0), (1, 0))).astype(np.int64), axis=1)
    t = np.arange(1, offer.shape[1] + 1)
    after = (csum[:, t] - csum[:, np.maximum(t - window, 0)]) > 0
    n_in, n_out = int(after.sum()), int((~after).sum())
    k_in, k_out = int(act[after].sum()), int(act[~after].sum())
    p_in = k_in / n_in if n_in else math.nan
    p_out = k_out / n_out if n_out else math.nan
    if n_in and p_out > 0:
        ratio = p_in / p_out
    else:
        ratio = math.inf if k_in else math.nan
    lo_in, hi_in = wilson(k_in, n_in) if n_in else (math.nan, math.nan)
    lo_out, hi_out = wilson(k_out, n_out) if n_out else (math.nan, math.nan)
    detail = (
        f"after an event {p_in:.4f} [{lo_in:.4f}, {hi_in:.4f}] ({k_in}/{n_in} run-months); "
        f"otherwise {p_out:.4f} [{lo_out:.4f}, {hi_out:.4f}] ({k_out}/{n_out})"
    )
    return ratio, None, detail, "ratio", bool(n_in and n_out)


def _paired_effect(spec: CheckSpec, base: Any, rerun: Callable) -> Stat:
    f = spec.fields
    other = rerun(f["overrides"])
    if "pair" in f:
        month = min(f["month"], base.months)
        diff = _pair_final(base, f["pair"], month) - _pair_final(other, f["pair"], month)
    else:
        col = f["outcome"]
        if col not in base.runs:
            return math.nan, None, f"no outcome {col}", "difference", False
        diff = base.runs[col].to_numpy(dtype=float) - other.runs[col].to_numpy(dtype=float)
    detail = "paired difference; interval: normal 95% of the mean"
    return float(diff.mean()), paired_interval(diff), detail, "difference", True


_STATS = {
    "share_of_runs": _share_of_runs,
    "action_share": _action_share,
    "rate_ratio": _rate_ratio,
    "paired_effect": _paired_effect,
}


def measure(spec: CheckSpec) -> str:
    """A sentence saying what the statistic is."""
    f = spec.fields
    if spec.kind == "share_of_runs":
        what = f"final {'-'.join(f['pair'])} alignment" if "pair" in f else f["outcome"]
        cond = (
            f" > {f['above']:g}" if "above" in f else f" < {f['below']:g}" if "below" in f else ""
        )
        return f"share of runs with {what}{cond}"
    if spec.kind == "action_share":
        when = f", in months when {f['event']} fired" if "event" in f else ""
        return f"share of {f['actor']}'s monthly choices that are {', '.join(f['actions'])}{when}"
    if spec.kind == "rate_ratio":
        return (
            f"monthly rate of {f['actor']} choosing {f['action']} in the {f['window']} months "
            f"from {f['event']} (that month included) over the rate in other months"
        )
    what = f"{'-'.join(f['pair'])} alignment at month {f['month']}" if "pair" in f else f["outcome"]
    changed = ", ".join(f"{k}={v:g}" for k, v in f["overrides"].items())
    return f"mean over runs of {what}, this scenario minus the same runs with {changed}"
