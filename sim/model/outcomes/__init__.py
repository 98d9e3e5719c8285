"""Outcomes: what a run is scored on, one module per kind, declared once and computed from
trajectories.

A scenario's ``[outcomes.X]`` tables name a ``kind``; each kind is one module here that
implements `Kind` (`kind.py`) and registers itself (`registry.py`):

- ``partnership`` (`partnership.py`): a pair's alignment above a threshold for k months;
- ``defection`` (`defection.py`): one actor's action against another (C11's betrayal), in
  episodes, with the offer that made it possible and the victim's response;
- ``balance`` (`balance.py`): one actor's alignment with one side minus with the other (C15's
  hedging), and whether it ends within a band.

A new kind is one module (a `BaseKind` subclass registered with `register`) and a test;
the run table, the per-month table, outcomes.json, the summary, `sim run`'s figures, the
levers' questions and Mesa's DataCollector all ask the registry. Every run also reports the
bloc structure (landscape theory) and each actor's policy changes (`table.py`). Column names
are plain identifiers (SQL friendly): per-month columns are ``alignment__<a>__<b>`` and
``action__<actor>``.

The tables (`declared`, `run_table`, `series_table`, ...) are loaded on first use, so that a
scenario can be checked without the engine.
"""

from sim._lazy import reexport
from sim.model.outcomes import balance, defection, partnership
from sim.model.outcomes.columns import (
    SEP,
    action_column,
    episodes,
    first_true,
    pair_column,
    pair_of,
    wide,
)
from sim.model.outcomes.defection import NO_RESPONSE, RESPONSE_WINDOW
from sim.model.outcomes.kind import (
    BaseKind,
    Context,
    Figure,
    Headlines,
    Kind,
    Outcome,
    ThresholdCheck,
)
from sim.model.outcomes.partnership import partnership_months
from sim.model.outcomes.registry import get, names, of, register, unregister

_TABLES = ("declared", "run_table", "series_table", "series_values", "policy_changes", "specs")

__all__ = [
    "NO_RESPONSE",
    "RESPONSE_WINDOW",
    "SEP",
    "BaseKind",
    "Context",
    "Figure",
    "Headlines",
    "Kind",
    "Outcome",
    "ThresholdCheck",
    "action_column",
    "balance",
    "defection",
    "episodes",
    "first_true",
    "get",
    "names",
    "of",
    "pair_column",
    "pair_of",
    "partnership",
    "partnership_months",
    "register",
    "unregister",
    "wide",
    *_TABLES,
]
__getattr__ = reexport(__name__, "table", _TABLES)
