"""Lazy re-export for stage packages: ``from sim import analysis; analysis.wilson`` works,
while importing a light sibling module (``sim.validation.data``, say) does not import the
package's heavy main module (pandas, scipy, matplotlib) as a side effect.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def reexport(package: str, module: str, names: tuple[str, ...]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names`` from ``package.module`` on first access."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(f"{package}.{module}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
