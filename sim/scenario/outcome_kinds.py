"""The outcome kinds a scenario may declare (``[outcomes.X]`` with ``kind = "..."``): a registry.

Each kind is one module of `sim.model.outcomes` (its columns, how it is computed from a
trajectory, its headline rows and figures) and registers itself there; this stage sees only
the part a scenario file needs, the kind's name, the keys a declaration may give and the
check that turns a declaration into fields (`Declares`). The scenario stage imports no stage
above it, so the built-in kinds are loaded through a hook the root package adds
(`add_loader`): the first lookup runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sim.scenario.checker import Checker


class Declares(Protocol):
    """What the scenario stage needs of an outcome kind."""

    name: str  # the ``kind`` a declaration names
    keys: tuple[str, ...]  # the keys a declaration may give besides ``kind`` and ``label``

    def declare(
        self, c: Checker, doc: Mapping[str, Any], field: str, actions: Mapping[str, tuple[str, ...]]
    ) -> dict[str, Any]:
        """Check one declaration (``doc`` at ``field``) and return its fields; ``actions`` maps
        each actor id to its action ids. Bad input fails through ``c`` (one line, the field).
        """
        ...


_KINDS: dict[str, Declares] = {}
_LOADERS: list[Callable[[], object]] = []


def register(kind: Declares) -> None:
    """Make ``kind`` declarable; a second kind of the same name replaces the first."""
    _KINDS[kind.name] = kind


def unregister(name: str) -> None:
    """Forget a kind (tests that register a toy kind clean up with this)."""
    _KINDS.pop(name, None)


def add_loader(load: Callable[[], object]) -> None:
    """Run ``load`` (which registers kinds) before the first lookup."""
    _LOADERS.append(load)


def known() -> Mapping[str, Declares]:
    """The registered kinds by name, in registration order."""
    while _LOADERS:
        _LOADERS.pop(0)()
    return _KINDS


def get(name: str) -> Declares:
    """The kind called ``name`` (KeyError if none is registered)."""
    return known()[name]
