"""The registry of outcome kinds: the one place code asks what a kind does.

It is the scenario stage's registry (`sim.scenario.outcome_kinds`, which checks declarations)
seen with the full `Kind` protocol, so a kind registered here is declarable in scenarios and
computed, summarised and drawn everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sim.scenario import outcome_kinds

if TYPE_CHECKING:
    from sim.model.outcomes.kind import Kind
    from sim.scenario.sections import OutcomeSpec


def register(kind: Kind) -> Kind:
    """Register ``kind`` (an instance of a `BaseKind` subclass) under its name; returns it."""
    outcome_kinds.register(kind)
    return kind


def unregister(name: str) -> None:
    """Forget the kind called ``name``."""
    outcome_kinds.unregister(name)


def get(name: str) -> Kind:
    """The kind called ``name`` (KeyError if none is registered)."""
    return cast("Kind", outcome_kinds.get(name))


def of(spec: OutcomeSpec) -> Kind:
    """The kind of a declared outcome."""
    return get(spec.kind)


def names() -> tuple[str, ...]:
    """The registered kinds' names."""
    return tuple(outcome_kinds.known())
