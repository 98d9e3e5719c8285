"""The compiled kernel against the numpy rules (the reference), on random states and
parameters, and on whole runs of every shipped scenario; its random numbers; its disk cache."""

import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba.core.registry import CPUDispatcher

from sim import scenario
from sim.model import engine, kernel, layout, rng, rules
from sim.model.mesa_model import AllianceModel
from sim.model.params import compile_params
from sim.model.rules import State
from sim.sweeps import runner as sweep

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
    stance = g.uniform(-1, 1, (rows, n, n))
    stance[:, np.arange(n), np.arange(n)] = 0.0  # no actor takes a stance toward itself
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
        stance=stance,
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


@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6))
def test_utility_terms_match_the_numpy_rules(seed, rows):
    """The kernel's own utility, and its split into terms, against the numpy reference."""
    params = random_params(seed, rows)
    state = random_state(params, seed + 1, rows)
    eu, split = kernel.utility_terms(state, params)
    want = rules.expected_utility(state, params)
    np.testing.assert_array_equal(np.isfinite(eu), np.isfinite(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(eu[ok], want[ok], rtol=1e-12, atol=1e-12)
    named = rules.utility_terms(state, params)
    parts = [rules.issue_terms(state, params)] + [named[t][..., None] for t in rules.TERMS[1:]]
    np.testing.assert_allclose(
        split[ok], np.concatenate(parts, axis=-1)[ok], rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(split.sum(-1)[ok], eu[ok], rtol=0, atol=1e-12)


@SMALL
@given(seed=st.integers(0, 2**32 - 1), amax=st.integers(1, 6))
def test_choose_matches_the_numpy_rules(seed, amax):
    g = np.random.default_rng(seed)
    weights = g.random((5, 3, amax)) * (g.random((5, 3, amax)) < 0.8)
    weights[..., 0] += 0.1  # at least one action with mass
    u = g.random((5, 3))
    np.testing.assert_array_equal(kernel.choose_actions(weights, u), rules.choose(weights, u))


def test_uniforms_are_the_streams_of_sim_rng_bit_for_bit():
    keys = rng.run_keys(11, np.arange(layout.BLOCK + 5), np.zeros(layout.BLOCK + 5, np.int64))
    padded = np.concatenate([keys, np.zeros(layout.BLOCK - 5, np.uint64)])
    for month in (0, 1, 119, 5000):
        want = rng.uniforms(keys, month, 7)
        for blk in (0, 1):
            u = np.zeros((7, layout.BLOCK))
            kernel.uniforms(padded, month, 7, u, blk)
            got = u.T[: len(keys) - blk * layout.BLOCK]
            np.testing.assert_array_equal(got, want[blk * layout.BLOCK :][: len(got)])


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


def compiled_signatures() -> dict[str, int]:
    """Signatures compiled (or loaded) in this process, per dispatcher of the kernel."""
    return {
        name: len(obj.signatures)
        for name, obj in vars(kernel).items()
        if isinstance(obj, CPUDispatcher) and obj.signatures
    }


def run_chunks_here(tasks) -> dict[str, int]:
    """Run sweep chunks in this process (a worker); its compiled signatures."""
    for task in tasks:
        assert sweep.run_chunk(task).failure is None
    return compiled_signatures()


def tiny_experiment():
    from tests.test_sweep import tiny

    return tiny(points=2, replicates=2, months=3)


def test_every_entry_point_uses_one_compiled_signature():
    """The engine (any batch, one replicate, regimes), the sweep's warm-up, the Mesa model and
    explanations all call the kernel with the same types: one signature per dispatcher.
    """
    for r in (1, 3, 70):
        engine.simulate(BASE, rng.run_keys(0, np.zeros(r, np.int64), np.arange(r)), 4)
    engine.simulate(WAR, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)), 30)
    plan = sweep.make_plan(tiny_experiment(), chunk_size=8)
    sweep.warm_up(plan)
    model = AllianceModel(SCENARIOS / "baseline.toml", seed=1, months=3)
    for _ in range(3):
        model.step()
    step = next(iter(engine.steps(BASE, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)))))
    kernel.utility_terms(step.state, step.params)
    sigs = compiled_signatures()
    assert sigs["_drive"] == 1
    assert all(n == 1 for n in sigs.values()), sigs


def test_sweep_workers_compile_nothing_more_than_one_signature():
    """A sweep with worker processes: the parent warms up, each worker runs chunks of
    several sizes, and every process holds one signature of the kernel.
    """
    from tests.test_sweep import tiny

    plan = sweep.make_plan(tiny(points=5, replicates=3, months=6), chunk_size=4)
    sweep.warm_up(plan)
    assert compiled_signatures()["_drive"] == 1
    tasks = [plan.task(c) for c in range(plan.chunks)]
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        found = list(pool.map(run_chunks_here, [tasks[::2], tasks[1::2]]))
    assert found == [{"_drive": 1}, {"_drive": 1}]


def test_a_second_process_loads_the_compiled_kernel_from_the_cache():
    engine.simulate(BASE, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)), 3)
    script = (
        "import numpy as np\n"
        "from sim import scenario\n"
        "from sim.model import engine, kernel, rng\n"
        "from sim.model.params import compile_params\n"
        "p = compile_params(scenario.load('scenarios/baseline.toml'))\n"
        "engine.simulate(p, rng.run_keys(0, np.zeros(2, np.int64), np.arange(2)), 3)\n"
        "s = kernel._drive.stats\n"
        "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    hits, misses = map(int, out.stdout.split())
    assert (hits, misses) == (1, 0)


FRESH_SECOND = """
import numpy as np
from sim import explain, replay
from sim.model import kernel
from sim.model.mesa_model import AllianceModel
m = AllianceModel(seed=3, months=2)
m.step()
m.step()
rp = replay.from_scenario("scenarios/baseline.toml", seed=3, months=4)
explain.account(rp, 0, 2, "russia")
for d in (kernel._drive, kernel.choose):
    print(sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values()))
"""


def test_the_first_command_says_it_compiles_and_a_later_one_compiles_nothing(tmp_path):
    """From an empty numba cache: `sim run` says once that it compiles the kernel; a second
    process (the Mesa model and an explanation) loads everything from the cache.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    first = subprocess.run(
        [sys.executable, "-m", "sim", "run", "-n", "3", "--months", "2", "--no-figures",
         "--out", str(tmp_path / "run")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("compiling the model's kernel") == 1
    env["NUMBA_DEBUG_CACHE"] = "1"
    second = subprocess.run(
        [sys.executable, "-c", FRESH_SECOND], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert second.returncode == 0, second.stderr
    assert "compiling the model's kernel" not in second.stderr
    assert "data saved" not in second.stdout + second.stderr  # numba wrote no new code
    lines = second.stdout.split("\n")[-3:-1]
    assert [tuple(map(int, line.split())) for line in lines] == [(1, 0), (1, 0)]
