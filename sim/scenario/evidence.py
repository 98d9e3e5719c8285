"""Evidence tables: where every number of a scenario comes from, and how far it may vary.

The evidence for ``scenarios/X.toml`` is ``scenarios/evidence/X.toml``: a list of ``[[entry]]``
tables, each naming one parameter (``name``) or an explicit list sharing value, range and
reasoning (``names``; no wildcards), with ``value``, a plausible ``low``-``high`` range, the
article's ``claims`` it rests on (C1-C16, `sim.claims`) or ``["assumption"]``, a one-sentence
``reason`` and, for numbers taken from the record of events (a historical scenario's dated
drivers), an optional ``source`` naming where the fact is documented. A variant scenario
inherits the evidence of the scenarios it ``extends``, wherever they lie, and its own table (if
any) wins for the names it lists; a scenario with neither falls back to the baseline table
beside it for the names they share. Sweeps read the ranges through
`evidence_ranges`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.scenario import Scenario, load, read_toml
from sim.scenario import claims as claims_mod

BASELINE = "baseline"
ENTRY_KEYS = ("name", "names", "value", "low", "high", "claims", "reason", "source")

# Display groups after the actors (which come first, in scenario order).
GROUPS = (
    "issues",
    "alignment",
    "trust",
    "dynamics",
    "deals",
    "events",
    "regimes",
    "outcomes",
    "scenario",
)


@dataclass(frozen=True)
class Entry:
    """The evidence for one parameter of a scenario."""

    name: str
    value: float
    low: float
    high: float
    claims: tuple[str, ...]
    reason: str
    source: str = ""  # where a historical fact is documented (dated drivers)

    @property
    def fixed(self) -> bool:
        """True for a definition or design choice (``low == high``): not to be swept."""
        return self.low == self.high

    @property
    def integer(self) -> bool:
        """True when the parameter takes whole numbers (e.g. months)."""
        return isinstance(self.value, int) and not isinstance(self.value, bool)


@dataclass(frozen=True)
class Problem:
    """One way an evidence table fails to match its scenario."""

    name: str
    message: str
    found: Any = None
    allowed: str | None = None

    def __str__(self) -> str:
        text = f"{self.name}: {self.message}"
        if self.found is not None:
            text += f" (found {self.found!r})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text


# --------------------------------------------------------------------------------------------
# Locating and loading


def evidence_path(scenario_path: str | Path) -> Path:
    """The evidence file of a scenario: ``scenarios/X.toml`` -> ``scenarios/evidence/X.toml``."""
    p = Path(scenario_path)
    return p.parent / "evidence" / f"{p.stem}.toml"


def load_evidence(path: str | Path) -> tuple[Entry, ...]:
    """Read and validate an evidence file; group entries are expanded to one per name."""
    path = Path(path)
    doc = read_toml(path)
    src = str(path)
    unknown = [k for k in doc if k != "entry"]
    if unknown:
        raise SimInputError("unknown key", file=src, field=unknown[0], allowed="[[entry]] tables")
    raw = doc.get("entry")
    if not isinstance(raw, list) or not raw:
        raise SimInputError("no [[entry]] tables", file=src, field="entry", allowed="[[entry]]")
    out: list[Entry] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        for entry in _entries(item, f"entry[{i}]", src):
            if entry.name in seen:
                raise SimInputError(
                    f"parameter listed twice (also in {seen[entry.name]})",
                    file=src,
                    field=f"entry[{i}]",
                    found=entry.name,
                )
            seen[entry.name] = f"entry[{i}]"
            out.append(entry)
    return tuple(out)


def _entries(item: Any, field: str, src: str) -> list[Entry]:
    def fail(key: str, message: str, found: Any = None, allowed: str | None = None) -> None:
        where = f"{field}.{key}" if key else field
        raise SimInputError(message, file=src, field=where, found=found, allowed=allowed)

    if not isinstance(item, Mapping):
        fail("", "expected a table", found=item)
    for key in item:
        if key not in ENTRY_KEYS:
            fail(key, "unknown key", allowed=", ".join(ENTRY_KEYS))
    if ("name" in item) == ("names" in item):
        fail("", "give exactly one of name (one parameter) or names (an explicit list)")
    names = [item["name"]] if "name" in item else item["names"]
    key = "name" if "name" in item else "names"
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        fail(key, "expected a dotted parameter name or a list of them", found=names)
    if any("*" in n for n in names):
        fail(key, "wildcards are not allowed; list every name", found=names)
    numbers = {}
    for k in ("value", "low", "high"):
        v = item.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            fail(k, "expected a finite number", found=v)
        numbers[k] = v
    cites = item.get("claims")
    if not isinstance(cites, list) or not cites:
        fail("claims", "expected a non-empty list", found=cites, allowed=_citable())
    for c in cites:
        if c not in claims_mod.CITABLE:
            fail("claims", "unknown claim", found=c, allowed=_citable())
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        fail("reason", "expected one sentence of reasoning", found=reason)
    source = item.get("source", "")
    if not isinstance(source, str) or ("source" in item and not source.strip()):
        fail("source", "expected one sentence naming where the fact is documented", found=source)
    return [
        Entry(name=n, claims=tuple(cites), reason=reason.strip(), source=source.strip(), **numbers)
        for n in names
    ]


def _citable() -> str:
    return f"{claims_mod.CLAIMS[0].id}-{claims_mod.CLAIMS[-1].id} or {claims_mod.ASSUMPTION}"


# --------------------------------------------------------------------------------------------
# Checking against a scenario


def check_evidence(scenario: Scenario, entries: Iterable[Entry]) -> list[Problem]:
    """Every mismatch between a scenario and its evidence table (empty when they agree).

    A problem is: a scenario number without an entry, an entry for a parameter the scenario
    does not have, a value different from the scenario's, a value outside [low, high], or a
    citation that is not a claim id or ``assumption``.
    """
    params = scenario.parameters()
    entries = list(entries)
    problems: list[Problem] = []
    listed = {e.name for e in entries}
    for name in params:
        if name not in listed:
            problems.append(Problem(name, "scenario number has no evidence entry"))
    for e in entries:
        if e.name not in params:
            problems.append(Problem(e.name, "entry names a parameter the scenario lacks"))
            continue
        if not math.isclose(e.value, params[e.name], rel_tol=0, abs_tol=1e-12):
            problems.append(
                Problem(e.name, "value differs from the scenario's", e.value, f"{params[e.name]}")
            )
        if not e.low <= e.value <= e.high:
            problems.append(
                Problem(e.name, "value outside [low, high]", e.value, f"[{e.low}, {e.high}]")
            )
        bad = [c for c in e.claims if c not in claims_mod.CITABLE]
        if bad:
            problems.append(Problem(e.name, "unknown claim", bad[0], _citable()))
    return problems


def require_evidence(scenario: Scenario, entries: Iterable[Entry], source: str) -> None:
    """Raise `SimInputError` for the first problem `check_evidence` finds."""
    problems = check_evidence(scenario, entries)
    if problems:
        p = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SimInputError(
            p.message + more, file=source, field=p.name, found=p.found, allowed=p.allowed
        )


# --------------------------------------------------------------------------------------------
# Resolving a scenario's evidence (own table, else the baseline's for shared names)


def scenario_evidence(scenario_path: str | Path, scenario: Scenario | None = None) -> list[Entry]:
    """The entries for a scenario's parameters, in scenario order.

    Each name takes the entry of the nearest table along the ``extends`` chain: the scenario's
    own evidence file, then its base's, and so on; last, the baseline table beside the scenario.
    Names found in none are left out.
    """
    sc = scenario if scenario is not None else load(scenario_path)
    paths = [evidence_path(p) for p in extends_chain(scenario_path)]
    paths.append(Path(scenario_path).parent / "evidence" / f"{BASELINE}.toml")
    found: dict[str, Entry] = {}
    for path in reversed(list(dict.fromkeys(p.resolve() for p in paths))):  # nearest wins
        if path.exists():
            found.update({e.name: e for e in load_evidence(path)})
    return [found[n] for n in sc.parameters() if n in found]


def extends_chain(scenario_path: str | Path) -> list[Path]:
    """The scenario file, then the file it extends, and so on to a complete scenario.

    Bases resolve as the loader resolves ``scenario.extends`` (relative to the extending file),
    so a variant kept anywhere finds its base's evidence beside the base. Loading the scenario
    has already rejected missing bases and loops; the walk stops at either all the same.
    """
    chain = [Path(scenario_path)]
    while True:
        current = chain[-1]
        meta = read_toml(current).get("scenario")
        base = meta.get("extends") if isinstance(meta, Mapping) else None
        if not isinstance(base, str):
            return chain
        nxt = (current.parent / base).resolve()
        if not nxt.is_file() or nxt in {p.resolve() for p in chain}:
            return chain
        chain.append(nxt)


def evidence_ranges(scenario_path: str | Path) -> dict[str, tuple[float, float]]:
    """Plausible (low, high) by dotted name for the parameters of a scenario file.

    For sweeps. Includes fixed entries (low == high); integer parameters (months) have integer
    bounds and must be rounded by a sampler. Names without evidence are absent.
    """
    return {e.name: (e.low, e.high) for e in scenario_evidence(scenario_path)}


# --------------------------------------------------------------------------------------------
# Grouping for display


def group_of(name: str, actor_ids: Sequence[str]) -> str:
    """Display group of a parameter: an actor id (for ``actors.<id>...``) or a top-level table."""
    head, _, rest = name.partition(".")
    if head == "actors":
        return rest.partition(".")[0]
    return head


def grouped(scenario: Scenario, entries: Iterable[Entry]) -> list[tuple[str, list[Entry]]]:
    """Entries grouped by actor (scenario order), then issues, alignment, trust, dynamics,
    betrayal, events, outcomes and scenario; entries keep scenario order within a group.
    """
    order = [*scenario.actor_ids, *GROUPS]
    rank = {n: i for i, n in enumerate(scenario.parameters())}
    groups: dict[str, list[Entry]] = {}
    for e in sorted(entries, key=lambda e: rank.get(e.name, len(rank))):
        groups.setdefault(group_of(e.name, scenario.actor_ids), []).append(e)
    known = [g for g in order if g in groups]
    return [(g, groups[g]) for g in known + sorted(set(groups) - set(known))]


def group_title(scenario: Scenario, group: str) -> str:
    """A readable heading for a display group."""
    if group in scenario.actor_ids:
        return scenario.label(group)
    return group.capitalize()
