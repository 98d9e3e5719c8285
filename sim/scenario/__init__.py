"""What users write, and its provenance: scenario files, field checks, claims, evidence tables.

The lowest stage: it imports nothing of the project but `sim.errors`. `Scenario` and `load`
are the entry points; `claims` and `evidence` tie every number to the source article.
"""

from sim.scenario.loader import (
    BASELINE,
    DYNAMICS,
    RELATION_WEIGHTS,
    Action,
    Actor,
    Event,
    Issue,
    Scenario,
    apply_overrides,
    as_scenario,
    from_dict,
    iter_numbers,
    load,
    read_toml,
    resolve_extends,
)

__all__ = [
    "BASELINE",
    "DYNAMICS",
    "RELATION_WEIGHTS",
    "Action",
    "Actor",
    "Event",
    "Issue",
    "Scenario",
    "apply_overrides",
    "as_scenario",
    "from_dict",
    "iter_numbers",
    "load",
    "read_toml",
    "resolve_extends",
]
