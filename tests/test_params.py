"""The parameter table of `Params`: the lists generated from it, and the arrays
`compile_params` returns, agree with what each field declares."""

import dataclasses

import numpy as np
import pytest

from sim import scenario
from sim.model import layout, params
from sim.model.params import PARAMETERS, ROW_FIELDS, Params, compile_params

from .conftest import SCENARIOS


def sizes(p: Params) -> dict[str, int]:
    """The size of each dimension letter in a compiled parameter set."""
    return {
        "N": len(p.actors),
        "A": p.valid.shape[1],
        "K": len(p.issues),
        "E": len(p.events),
        "D": len(p.deals),
        "G": len(p.regimes),
        "C": len(p.changes),
    }


def test_every_array_field_is_declared_in_the_table():
    arrays = [f.name for f in dataclasses.fields(Params) if f.type == "np.ndarray"]
    assert [f.name for f in PARAMETERS] == arrays
    for f in PARAMETERS:
        assert set(f.metadata["dims"].split()) <= set(params.DIMS), f.name


def test_generated_lists_follow_the_table():
    assert ROW_FIELDS == tuple(f.name for f in PARAMETERS if f.metadata["per_row"])
    kernel = {f.name: f.metadata["dtype"].type for f in PARAMETERS if f.metadata["kernel"]}
    assert dict(layout.FIELDS) == kernel
    assert set(layout.STRUCTURE) == {
        f.name for f in PARAMETERS if f.metadata["kernel"] and not f.metadata["per_row"]
    }
    assert [f.name for f in params.ACTOR_FIELDS] == [
        "cap", "temp", "memory", "w_alignment", "w_reciprocity", "w_trust", "w_autonomy",
        "inertia",
    ]  # fmt: skip


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_compiled_arrays_have_the_declared_dims_and_dtypes(path):
    p = compile_params(scenario.load(path))
    size = sizes(p)
    for f in PARAMETERS:
        x = getattr(p, f.name)
        want = tuple(size[d] for d in f.metadata["dims"].split())
        if f.metadata["per_row"]:
            want = (1, *want)
        assert x.shape == want, f.name
        assert x.dtype == f.metadata["dtype"], f.name


def test_a_per_actor_number_is_located_for_sweeps(baseline):
    p = compile_params(baseline)
    i = p.actors.index("russia")
    for f in params.ACTOR_FIELDS:
        name = f"actors.russia.{f.metadata['actor']}"
        assert p.locate[name] == (f.name, ((i,),))
        changed = p.assign({name: np.array([0.123])})
        assert getattr(changed, f.name)[0, i] == pytest.approx(0.123)
