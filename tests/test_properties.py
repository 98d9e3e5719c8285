"""Property-based tests of the loader and the model (kept small and fast)."""

import copy
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import api, scenario
from sim.errors import SimInputError

from .conftest import BASELINE

BASE = scenario.load(BASELINE)
NAMES = sorted(BASE.parameters())


def _valid_range(name: str) -> tuple[float, float]:
    if (
        ".salience." in name
        or name.endswith("hazard")
        or name.endswith("persistence")
        or name == "dynamics.atmosphere"
    ):
        return (0.0, 0.99)
    if ".position." in name or name.startswith("alignment.") or ".stance." in name:
        return (-1.0, 1.0)
    if ".issues." in name:
        return (-1.0, 1.0)
    if name.endswith(".memory") or name == "dynamics.rate":
        return (0.05, 1.0)
    if name.endswith(".temperature") or name.endswith(".capability"):
        return (0.01, 2.0)
    if name.endswith(".month") or name.endswith(".months") or name.endswith(".start"):
        return (1, 60)
    if name == "outcomes.partnership.threshold":
        return (-0.9, 0.9)
    if name == "outcomes.hedging.band":
        return (0.1, 2.0)
    if name.startswith("deals.") and (name.endswith("months") or name.endswith("binds")):
        return (1, 60)
    if "stakes" in name or ".alignment." in name:
        return (-2.0, 2.0) if ".alignment." in name else (-5.0, 5.0)
    return (0.0, 5.0)


@st.composite
def overrides(draw):
    chosen = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=12, unique=True))
    out = {}
    for name in chosen:
        lo, hi = _valid_range(name)
        if isinstance(BASE.parameters()[name], int):
            out[name] = draw(st.integers(int(lo), int(hi)))
        else:
            out[name] = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides(), st.integers(0, 2**32))
def test_random_valid_scenarios_stay_well_formed(ov, seed):
    res = api.simulate(BASE.with_overrides(ov), replicates=6, seed=seed, months=18)
    runs, series = res.runs, res.series
    assert len(runs) == 6
    # Months and lengths of events that did not happen are empty by design.
    optional = ["partnership_month", "betrayal_month", "betrayal_length", "betrayal_wait"]
    numeric = runs.select_dtypes("number").drop(columns=optional)
    assert not numeric.isna().to_numpy().any()
    for col in ("alignment_final", "alignment_mean"):
        assert runs[col].between(-1, 1).all()
    align = series.filter(like="alignment__").to_numpy()
    assert np.isfinite(align).all() and (np.abs(align) <= 1).all()
    assert runs.hedging_final.between(-2, 2).all()


JUNK = st.one_of(
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(doc, prefix=()):
    for key, value in doc.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


PATHS = list(_paths(BASE.raw))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PATHS), JUNK, st.booleans())
def test_random_invalid_input_raises_only_sim_input_error(path, junk, add_key):
    doc = copy.deepcopy(dict(BASE.raw))
    node = doc
    for key in path[:-1]:
        node = node[key]
    if add_key:
        node[path[-1] + "_x"] = junk
    else:
        node[path[-1]] = junk
    try:
        sc = scenario.from_dict(doc, "fuzz.toml")
    except SimInputError as exc:
        assert "fuzz.toml" in str(exc)
        return
    # Accepted: then it must be a usable scenario.
    assert all(math.isfinite(v) for v in sc.parameters().values())
