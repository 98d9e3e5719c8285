"""EMA Workbench adapter: the model as a plain function of identifier-named keywords.

EMA Workbench (``ema_workbench``, extra ``analysis``) calls a model function with one keyword
per uncertainty and reads one value per outcome from the dict it returns; its names must be
Python identifiers. The scenario's dotted names become identifiers by replacing each ``.``
with ``__`` (and back)::

    actors.russia.salience.ukraine   <->   actors__russia__salience__ukraine

`SimFunction` is that function (a small picklable object, so EMA's multiprocessing evaluator
can ship it to workers); `ema_model` builds an EMA ``Model`` over it with one parameter per
evidence range of the scenario and one ``ScalarOutcome`` per numeric or true/false outcome.
Each call runs one point through `sim.api.evaluate`, always as point 0, so every experiment
draws the same random streams (common random numbers: differences between experiments come
from the parameters alone). See docs/api.md.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import api
from sim.errors import SimInputError
from sim.model.params import compile_params
from sim.scenario import BASELINE, load

SEP = "__"  # stands for "." in identifier names
INSTALL_HINT = "pip install 'sim[analysis]'  (or: pip install 'ema_workbench>=2.5')"


def identifier(name: str) -> str:
    """The identifier form of a dotted name: each ``.`` becomes ``__``."""
    ident = name.replace(".", SEP)
    if not ident.isidentifier() or keyword.iskeyword(ident) or dotted(ident) != name:
        raise SimInputError(
            "has no identifier form that maps back to it",
            field=name,
            allowed=f"names whose parts are identifiers without a leading, trailing or '{SEP}' "
            "underscore run",
        )
    return ident


def dotted(ident: str) -> str:
    """The dotted name of an identifier: each ``__`` becomes ``.``."""
    return ident.replace(SEP, ".")


@dataclass(frozen=True)
class SimFunction:
    """The model as EMA Workbench calls it: identifier keywords in, outcome means out.

    ``SimFunction("scenarios/baseline.toml", replicates=100)(actors__russia__salience__ukraine
    =0.9)`` returns ``{"betrayal": 0.97, "alignment_final": ..., ...}``: the means over
    ``replicates`` runs, as `sim.api.evaluate` computes them; parameters not given keep the
    scenario's values.
    """

    scenario: str = str(BASELINE)
    replicates: int = 100
    seed: int = 0
    months: int | None = None

    def __call__(self, **values: Any) -> dict[str, float]:
        """Run the point given by the keywords; return each outcome's mean by identifier."""
        names = [dotted(k) for k in values]
        for ident, name in zip(values, names, strict=True):
            if identifier(name) != ident:
                raise SimInputError("not the identifier form of a dotted name", field=ident)
        row = api.evaluate(
            np.array([list(values.values())], dtype=np.float64).reshape(1, len(names)),
            names,
            replicates=self.replicates,
            seed=self.seed,
            months=self.months,
            scenario=self.scenario,
        ).iloc[0]
        return {identifier(c): float(row[c]) for c in row.index if c not in names}


def outcome_names(scenario: str | Path = BASELINE) -> list[str]:
    """Identifier names of the outcomes `SimFunction` returns for a scenario."""
    # One tiny run: the outcome columns are whatever `api.evaluate` averages, defined once.
    return list(SimFunction(str(scenario), replicates=1, months=1)())


def ema_model(
    scenario: str | Path = BASELINE,
    names: Sequence[str] | None = None,
    replicates: int = 100,
    seed: int = 0,
    months: int | None = None,
    name: str = "sim",
) -> Any:
    """Build an EMA Workbench ``Model`` of a scenario file.

    Uncertainties: one per dotted name in ``names`` (default: every parameter with an evidence
    range, `sim.scenario.evidence.evidence_ranges`, that a point can vary and that is not
    fixed), over its evidence range; ``IntegerParameter`` for months and counts, else
    ``RealParameter``. Outcomes: a ``ScalarOutcome`` per name of `outcome_names`. The function
    is a `SimFunction` with ``replicates``, ``seed`` and ``months``.
    """
    try:
        from ema_workbench import IntegerParameter, Model, RealParameter, ScalarOutcome
    except ImportError:
        raise SimInputError(
            "the EMA Workbench adapter needs ema_workbench, which is not installed",
            field="ema_workbench",
            allowed=INSTALL_HINT,
        ) from None
    from sim.scenario.evidence import evidence_ranges

    path = Path(scenario)
    params = compile_params(load(path))
    ranges = evidence_ranges(path)
    if names is None:
        names = [n for n, (lo, hi) in ranges.items() if n in params.locate and lo < hi]
    uncertainties = []
    for dotted_name in names:
        if dotted_name not in ranges or dotted_name not in params.locate:
            raise SimInputError(
                "no evidence range for this parameter, or one a point cannot vary",
                file=str(path),
                field=dotted_name,
                allowed="a name listed by `sim evidence`",
            )
        low, high = ranges[dotted_name]
        if not low < high:
            raise SimInputError(
                "the evidence fixes this parameter (low == high): nothing to vary",
                file=str(path),
                field=dotted_name,
                found=[low, high],
            )
        if getattr(params, params.locate[dotted_name][0]).dtype.kind in "iu":
            uncertainties.append(IntegerParameter(identifier(dotted_name), int(low), int(high)))
        else:
            uncertainties.append(RealParameter(identifier(dotted_name), float(low), float(high)))
    model = Model(name, function=SimFunction(str(path), replicates, seed, months))
    model.uncertainties = uncertainties
    model.outcomes = [ScalarOutcome(o) for o in outcome_names(path)]
    return model
