"""The kernel's layout: one array type per field whatever the number of replicates (so the
kernel compiles one signature), blocks that round-trip, one scratch array per quantity."""

import numba
import numpy as np
import pytest

from sim import scenario
from sim.model import layout, rules
from sim.model.params import compile_params

from .conftest import SCENARIOS

BASE_SCENARIO = scenario.load(SCENARIOS / "baseline.toml")
BASE = compile_params(BASE_SCENARIO)


def types(arrays) -> dict[str, object]:
    return {f: numba.typeof(x) for f, x in arrays._asdict().items()}


@pytest.mark.parametrize("replicates", [1, 2, 64, 65, 200])
def test_packed_arrays_have_one_type_whatever_the_replicates(replicates):
    params = BASE.take(np.zeros(replicates, np.int64)) if replicates > 1 else BASE
    got = layout.pack(params, replicates)
    assert types(got) == types(layout.pack(compile_params(BASE_SCENARIO), 3))
    for f, x in got._asdict().items():
        assert x.flags.c_contiguous, f
    state = rules.initial_state(BASE, replicates)
    buf = layout.buffers(state)
    assert types(buf) == types(layout.empty_buffers(BASE, 7))
    assert types(layout.work(got)) == types(layout.work(layout.pack(BASE, 7)))


BASE_SCENARIO = scenario.load(SCENARIOS / "baseline.toml")


@pytest.mark.parametrize("replicates", [1, 5, 64, 130])
def test_blocks_round_trip(replicates):
    g = np.random.default_rng(replicates)
    x = g.random((replicates, 3, 4))
    b = layout.blocked(x, replicates, np.float64)
    assert b.shape == (layout.blocks(replicates), 3, 4, layout.width(replicates))
    np.testing.assert_array_equal(layout.unblocked(b, replicates), x)
    shared = layout.blocked(x[:1], replicates, np.float64)
    np.testing.assert_array_equal(
        layout.unblocked(shared, replicates), np.broadcast_to(x[:1], x.shape)
    )


@pytest.mark.parametrize("replicates", [1, 40, 70])
def test_state_round_trips_through_buffers_as_copies(replicates):
    state = rules.initial_state(BASE, replicates)
    buf = layout.buffers(state)
    back = layout.state_of(buf, 0, replicates)
    for f in layout.Buffers._fields:
        np.testing.assert_array_equal(getattr(back, f), getattr(state, f), err_msg=f)
        # the kernel updates buffers in place: neither side may see the other's changes
        assert not np.shares_memory(getattr(buf, f), getattr(state, f)), f
        assert not np.shares_memory(getattr(buf, f), getattr(back, f)), f


def test_one_scratch_array_per_quantity():
    w = layout.work(layout.pack(BASE, 10))
    ids = [id(x) for x in w]
    assert len(set(ids)) == len(ids) == len(layout.WORK)
    assert all(x.shape[-1] == 10 for x in w)
