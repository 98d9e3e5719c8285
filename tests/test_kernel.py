"""The compiled kernel against the numpy rules (the reference), on random states and
parameters, and on whole runs of every shipped scenario; its random numbers; its disk cache."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import scenario
from sim.model import engine, kernel, rng, rules
from sim.model.params import compile_params
from sim.model.rules import State

from .conftest import ROOT, SCENARIOS

BASE = compile_params(scenario.load(SCENARIOS / "baseline.toml"))
WAR = compile_params(scenario.load(SCENARIOS / "shared_war.toml"))
FIELDS = [f for f in State.__dataclass_fields__ if f != "month"]

# Parameters a property test varies per row, with ranges that keep the scenario valid.
VARIED = {
    "actors.russia.salience.ukraine": (0.0, 1.0),
    "actors.iran.weights.alignment": (0.0, 3.0),
    "actors.russia.weights.trust": (0.0, 3.0),
    "actors.iran.temperature": (0.05, 2.0),
    "actors.russia.inertia": (0.0, 2.0),
    "actors.russia.actions.betray.stance.iran": (-1.0, 1.0),
    "actors.iran.memory": (0.5, 1.0),
    "dynamics.rate": (0.01, 1.0),
    "dynamics.balance": (0.0, 2.0),
    "deals.syria_for_ukraine.exit_cost": (0.0, 3.0),
    "events.unsc_crisis.hazard": (0.0, 1.0),
    "issues.ukraine.stake": (0.0, 3.0),
}


def random_params(seed: int, rows: int):
    """Baseline parameters with some values drawn per row."""
    g = np.random.default_rng(seed)
    return BASE.assign({k: g.uniform(lo, hi, rows) for k, (lo, hi) in VARIED.items()})


def random_actions(params, g, rows: int) -> np.ndarray:
    """Valid actions per row and actor."""
    n = len(params.actors)
    return np.array(
        [[g.integers(len(params.actions[i])) for i in range(n)] for _ in range(rows)],
        dtype=np.int64,
    )


def random_state(params, seed: int, rows: int) -> State:
    """A state anywhere the rules can take one: symmetric alignment, structure and mood."""
    g = np.random.default_rng(seed)
    n, k, d = len(params.actors), len(params.issues), len(params.deals)

    def symmetric(scale: float, diagonal: float) -> np.ndarray:
        x = g.uniform(-scale, scale, (rows, n, n))
        x = (x + np.swapaxes(x, 1, 2)) / 2
        x[:, np.arange(n), np.arange(n)] = diagonal
        return x

    base = np.clip(symmetric(1.0, 1.0), -1, 1)
    mood = symmetric(0.3, 0.0)
    alignment = np.clip(base + mood, -1, 1)
    alignment[:, np.arange(n), np.arange(n)] = 1.0
    actions = random_actions(params, g, rows)
    actions[g.random((rows, n)) < 0.2] = -1  # some actors hold no declared policy
    return State(
        month=int(g.integers(0, 100)),
        alignment=alignment,
        base=base,
        mood=mood,
        favourable=g.uniform(0, 20, (rows, n, n)),
        unfavourable=g.uniform(0, 20, (rows, n, n)),
        stakes=g.uniform(0, 3, (rows, k)),
        stance=g.uniform(-1, 1, (rows, n, n)),
        actions=actions,
        anchor=symmetric(0.5, 0.0),
        offer_left=g.integers(0, 3, (rows, d)),
        in_deal=g.random((rows, d)) < 0.3,
        bound_left=g.integers(0, 4, (rows, d)),
    )


def assert_states_close(got: State, want: State, off_diagonal_anchor: bool = False) -> None:
    assert got.month == want.month
    for f in FIELDS:
        a, b = getattr(got, f), getattr(want, f)
        if f == "anchor" and off_diagonal_anchor:  # the anchor's diagonal has no effect
            n = a.shape[1]
            a, b = a.copy(), b.copy()
            a[:, np.arange(n), np.arange(n)] = b[:, np.arange(n), np.arange(n)] = 0
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f)
        else:
            np.testing.assert_array_equal(a, b, err_msg=f)


SMALL = settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])


@SMALL
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6))
def test_prepare_matches_the_numpy_rules(seed, rows):
    params = random_params(seed, rows)
    state = random_state(params, seed + 1, rows)
    u = np.random.default_rng(seed + 2).random((rows, len(params.events)))
    want_state, want_fired, want_weights = rules.prepare(state, params, u)
    got_state, got_fired, got_weights = kernel.prepare_month(state, params, u)
    np.testing.assert_array_equal(got_fired, want_fired)
    np.testing.assert_allclose(got_weights, want_weights, rtol=1e-12, atol=1e-300)
    assert_states_close(got_state, want_state)


@SMALL
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6))
def test_transition_matches_the_numpy_rules(seed, rows):
    params = random_params(seed, rows)
    state = random_state(params, seed + 1, rows)
    actions = random_actions(params, np.random.default_rng(seed + 2), rows)
    want, want_taken = rules.transition(state, params, actions)
    got, got_taken = kernel.transition_month(state, params, actions)
    np.testing.assert_array_equal(got_taken, want_taken)
    assert_states_close(got, want)


@SMALL
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6))
def test_initial_state_matches_the_numpy_rules(seed, rows):
    params = random_params(seed, rows)
    assert_states_close(
        kernel.start(params, rows), rules.initial_state(params, rows), off_diagonal_anchor=True
    )


@SMALL
@given(seed=st.integers(0, 2**32 - 1), amax=st.integers(1, 6))
def test_choose_matches_the_numpy_rules(seed, amax):
    g = np.random.default_rng(seed)
    weights = g.random((5, 3, amax)) * (g.random((5, 3, amax)) < 0.8)
    weights[..., 0] += 0.1  # at least one action with mass
    u = g.random((5, 3))
    np.testing.assert_array_equal(kernel.choose_actions(weights, u), rules.choose(weights, u))


def test_uniforms_are_the_streams_of_sim_rng_bit_for_bit():
    keys = rng.run_keys(11, np.arange(kernel.BLOCK + 5), np.zeros(kernel.BLOCK + 5, np.int64))
    padded = np.concatenate([keys, np.zeros(kernel.BLOCK - 5, np.uint64)])
    for month in (0, 1, 119, 5000):
        want = rng.uniforms(keys, month, 7)
        for blk in (0, 1):
            u = np.zeros((7, kernel.BLOCK))
            kernel.uniforms(padded, month, 7, u, blk)
            got = u.T[: len(keys) - blk * kernel.BLOCK]
            np.testing.assert_array_equal(got, want[blk * kernel.BLOCK :][: len(got)])


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_engine_equals_the_numpy_reference_on_every_scenario(path):
    params = compile_params(scenario.load(path))
    keys = rng.run_keys(3, np.zeros(60, np.int64), np.arange(60))
    got = engine.simulate(params, keys, 120)
    want = engine.simulate_numpy(params, keys, 120)
    np.testing.assert_array_equal(got.actions, want.actions)
    np.testing.assert_array_equal(got.fired, want.fired)
    np.testing.assert_array_equal(got.offers, want.offers)
    np.testing.assert_allclose(got.alignment, want.alignment, atol=1e-6)


def test_regimes_starting_in_different_months_per_row():
    """A sweep may vary a regime's start per row: the kernel cuts the horizon at each."""
    months = np.array([1, 2, 7, 7, 40, 200])
    params = WAR.assign({"regimes.shared_war.month": months})
    keys = rng.run_keys(5, np.arange(6), np.zeros(6, np.int64))
    assert engine.segments(params, 60) == [1, 6, 39, 60]
    got = engine.simulate(params, keys, 60)
    want = engine.simulate_numpy(params, keys, 60)
    np.testing.assert_array_equal(got.actions, want.actions)
    np.testing.assert_allclose(got.alignment, want.alignment, atol=1e-6)
    # Each row equals its own run with the regime's month set alone.
    for r, m in enumerate(months):
        alone = engine.simulate(WAR.assign({"regimes.shared_war.month": [m]}), keys[r : r + 1], 60)
        np.testing.assert_array_equal(alone.alignment[0], got.alignment[r])


def test_segments_without_regimes_is_one_stretch():
    assert engine.segments(BASE, 120) == [120]


def test_kernel_results_do_not_depend_on_the_batch():
    keys = rng.run_keys(9, np.zeros(25, np.int64), np.arange(25))
    whole = engine.simulate(BASE, keys, 48)
    for size in (1, 4, 10):
        parts = [engine.simulate(BASE, keys[i : i + size], 48) for i in range(0, 25, size)]
        assert np.concatenate([p.alignment for p in parts]).tobytes() == whole.alignment.tobytes()
        assert np.concatenate([p.actions for p in parts]).tobytes() == whole.actions.tobytes()


def test_a_second_process_loads_the_compiled_kernel_from_the_cache():
    engine.simulate(BASE, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)), 3)
    script = (
        "import numpy as np\n"
        "from sim import scenario\n"
        "from sim.model import engine, kernel, rng\n"
        "from sim.model.params import compile_params\n"
        "p = compile_params(scenario.load('scenarios/baseline.toml'))\n"
        "engine.simulate(p, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)), 3)\n"
        "s = kernel.run.stats\n"
        "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    hits, misses = map(int, out.stdout.split())
    assert (hits, misses) == (1, 0)
