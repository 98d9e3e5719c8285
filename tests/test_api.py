"""The batch API (`api.evaluate`) and the EMA Workbench adapter (`sim.ema`)."""

import pickle

import numpy as np
import pandas as pd
import pytest

from sim import api, ema
from sim.errors import SimInputError
from sim.model.params import compile_params
from sim.scenario.evidence import evidence_ranges
from sim.sweeps import runner as sweep
from tests.conftest import BASELINE, ROOT
from tests.test_sweep import tiny

NAMES = ["actors.russia.salience.ukraine", "events.tehran_summit.month"]  # a float, an integer
POINTS = np.array([[0.3, 2], [0.9, 7], [0.6, 12], [0.45, 1]])
SMALL = {"replicates": 6, "seed": 11, "months": 24}


def _means(runs: pd.DataFrame, columns) -> pd.Series:
    return runs[list(columns)].astype(np.float64).mean()


@pytest.fixture(scope="module")
def evaluated():
    return api.evaluate(POINTS, NAMES, **SMALL)


def test_one_row_per_point_with_values_and_outcome_means(evaluated):
    df = evaluated
    assert list(df.index) == [0, 1, 2, 3] and df.index.name == "point"
    assert list(df.columns[:2]) == NAMES
    assert df[NAMES[1]].dtype == np.int64 and list(df[NAMES[1]]) == [2, 7, 12, 1]
    # numeric and true/false outcomes only; categorical ones (response, blocs) have no mean
    assert {"betrayal", "alignment_final", "betrayal_month", "bloc_iran"} <= set(df.columns)
    assert not {"response", "blocs", "replicate"} & set(df.columns)
    assert (df.dtypes[2:] == np.float64).all()
    assert df.betrayal.between(0, 1).all()


def test_each_row_equals_simulate_of_that_point(evaluated):
    outcomes = evaluated.columns[2:]
    for p, row in enumerate(POINTS):
        overrides = {NAMES[0]: float(row[0]), NAMES[1]: int(row[1])}
        res = api.simulate(
            BASELINE,
            replicates=SMALL["replicates"],
            seed=SMALL["seed"],
            months=SMALL["months"],
            overrides=overrides,
            point=p,
            keep_series=False,
        )
        expected = _means(res.runs, outcomes)
        pd.testing.assert_series_equal(
            evaluated.loc[p, outcomes].astype(np.float64), expected, check_names=False
        )


def test_results_do_not_depend_on_batching(evaluated):
    one_point_chunks = api.evaluate(POINTS, NAMES, chunk_size=1, **SMALL)
    pd.testing.assert_frame_equal(one_point_chunks, evaluated)
    two_workers = api.evaluate(POINTS, NAMES, chunk_size=12, workers=2, **SMALL)
    pd.testing.assert_frame_equal(two_workers, evaluated)
    in_parts = pd.concat(
        [
            api.evaluate(POINTS[:1], NAMES, **SMALL),
            api.evaluate(POINTS[1:], NAMES, first_point=1, **SMALL),
        ]
    )
    pd.testing.assert_frame_equal(in_parts, evaluated)


def test_points_as_a_dataframe():
    frame = pd.DataFrame(POINTS[:2], columns=NAMES)
    pd.testing.assert_frame_equal(
        api.evaluate(frame, **SMALL), api.evaluate(POINTS[:2], NAMES, **SMALL)
    )


def test_a_sweep_point_equals_the_same_evaluated_point():
    exp = tiny(points=5, replicates=3, months=18)
    plan = sweep.make_plan(exp, 6)
    runs = pd.concat(sweep.run_chunk(plan.task(c)).runs for c in range(plan.chunks))
    got = api.evaluate(
        plan.values,
        exp.names,
        replicates=exp.replicates,
        seed=exp.seed,
        months=exp.months,
        scenario=exp.scenario_path,
    )
    outcomes = got.columns[len(exp.names) :]
    expected = runs[list(outcomes)].astype(float).groupby(runs.point).mean()
    pd.testing.assert_frame_equal(got[outcomes], expected, check_names=False)


@pytest.mark.parametrize(
    "points,names,kwargs,match",
    [
        ([[0.5]], ["actors.russia.salience.ukrain"], {}, "unknown parameter"),
        ([[120]], ["scenario.months"], {}, "cannot vary"),
        ([[0.5, 0.5]], ["actors.iran.memory"], {}, "one value per name"),
        ([[float("nan")]], ["actors.iran.memory"], {}, r"points\[0\]: not a finite number"),
        ([[0.5], [1.5]], ["events.western_offer.hazard"], {}, r"points\[1\]"),
        ([[2.5]], ["events.tehran_summit.month"], {}, "whole number"),
        ([[0.5, 0.6]], ["actors.iran.memory"] * 2, {}, "named twice"),
        ([["high"]], ["actors.iran.memory"], {}, "expected numbers"),
        ([], ["actors.iran.memory"], {}, "at least one point"),
        ([[0.5]], ["actors.iran.memory"], {"replicates": 0}, "replicates"),
        ([[0.5]], ["actors.iran.memory"], {"months": 0}, "months"),
        ([[0.5]], ["actors.iran.memory"], {"seed": -1}, "seed"),
    ],
)
def test_bad_input_is_one_sim_input_error(points, names, kwargs, match):
    with pytest.raises(SimInputError, match=match) as info:
        api.evaluate(points, names, **kwargs)
    assert "\n" not in str(info.value)


def test_batching_is_faster_than_one_simulate_per_point():
    """The speed-up the API exists for (benchmarks/bench_evaluate.py measures it properly)."""
    import time

    points = np.column_stack([np.linspace(0.3, 1.0, 40), np.full(40, 3)])
    kw = {"replicates": 5, "seed": 1, "months": 60}
    t0 = time.perf_counter()
    api.evaluate(points, NAMES, **kw)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p, row in enumerate(points):
        overrides = {NAMES[0]: float(row[0]), NAMES[1]: int(row[1])}
        api.simulate(BASELINE, overrides=overrides, point=p, keep_series=False, **kw)
    looped = time.perf_counter() - t0
    assert looped > 2 * batched, (looped, batched)


# --------------------------------------------------------------------------------------------
# EMA Workbench adapter


def test_identifier_names_map_back_to_every_scenario_name(baseline):
    for name in baseline.parameters():
        ident = ema.identifier(name)
        assert ident.isidentifier() and "." not in ident
        assert ema.dotted(ident) == name
    assert ema.identifier("actors.russia.salience.ukraine") == "actors__russia__salience__ukraine"
    with pytest.raises(SimInputError, match="identifier"):
        ema.identifier("actors.gulf-states.memory")


def test_sim_function_is_evaluate_with_identifier_names(evaluated):
    fn = ema.SimFunction(str(BASELINE), **SMALL)
    kwargs = {ema.identifier(n): v for n, v in zip(NAMES, POINTS[0], strict=True)}
    got = fn(**kwargs)
    assert set(got) == set(ema.outcome_names(BASELINE))
    # the adapter runs every point as point 0 (common random numbers)
    assert got["betrayal"] == evaluated.betrayal.iat[0]
    assert got["alignment_final"] == evaluated.alignment_final.iat[0]
    assert pickle.loads(pickle.dumps(fn)) == fn  # EMA's multiprocessing evaluator ships it
    with pytest.raises(SimInputError, match="unknown parameter"):
        fn(actors__russia__salience__nowhere=0.5)


def test_ema_model_uncertainties_come_from_the_evidence(baseline):
    pytest.importorskip("ema_workbench")
    from ema_workbench import IntegerParameter, RealParameter

    model = ema.ema_model(BASELINE, replicates=2, months=6)
    params = compile_params(baseline)
    ranges = {
        n: r for n, r in evidence_ranges(BASELINE).items() if n in params.locate and r[0] < r[1]
    }
    got = {ema.dotted(u.name): u for u in model.uncertainties}
    assert set(got) == set(ranges)
    for name, (low, high) in ranges.items():
        u = got[name]
        assert (u.lower_bound, u.upper_bound) == pytest.approx((low, high))
        integer = getattr(params, params.locate[name][0]).dtype.kind in "iu"
        assert isinstance(u, IntegerParameter if integer else RealParameter)
    assert [o.name for o in model.outcomes] == ema.outcome_names(BASELINE)
    with pytest.raises(SimInputError, match="fixes this parameter"):
        ema.ema_model(BASELINE, names=["dynamics.overlap"])


def test_perform_experiments_runs_the_model():
    pytest.importorskip("ema_workbench")
    from ema_workbench import perform_experiments

    names = [
        "actors.russia.salience.ukraine",
        "events.western_offer.hazard",
        "deals.syria_for_ukraine.binds",  # an integer parameter
    ]
    model = ema.ema_model(BASELINE, names=names, replicates=4, seed=3, months=12)
    experiments, outcomes = perform_experiments(model, scenarios=5)
    assert len(experiments) == 5
    assert set(outcomes) == set(ema.outcome_names(BASELINE))
    assert all(len(v) == 5 for v in outcomes.values())
    # experiment 2 through the workbench equals the same point through api.evaluate
    row = experiments.iloc[2]
    point = [[row[ema.identifier(n)] for n in names]]
    direct = api.evaluate(point, names, replicates=4, seed=3, months=12)
    assert outcomes["betrayal"][2] == direct.betrayal.iat[0]
    assert outcomes["hedging_final"][2] == direct.hedging_final.iat[0]


# --------------------------------------------------------------------------------------------
# The documentation's examples run as written


def _python_blocks(path):
    text = path.read_text()
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_docs_api_examples_run(monkeypatch):
    pytest.importorskip("ema_workbench")
    blocks = _python_blocks(ROOT / "docs" / "api.md")
    assert len(blocks) >= 5 and any("perform_experiments(" in b for b in blocks)
    monkeypatch.chdir(ROOT)  # the examples use paths from the repository root
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), {})
