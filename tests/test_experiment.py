import time
from pathlib import Path

import pytest

from sim.errors import SimInputError
from sim.sweeps.experiment import load_experiment, shrink
from tests.conftest import BASELINE, ROOT

EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))


def write(tmp_path: Path, params: str, design: str = 'method = "lhs"\npoints = 4', extra: str = ""):
    text = f"""
[experiment]
name = "t"
scenario = "{BASELINE}"
seed = 1
replicates = 2
months = 6
{extra}
[design]
{design}

[parameters]
{params}
"""
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_shipped_experiments_load(path):
    exp = load_experiment(path)
    assert exp.parameters and exp.replicates >= 1 and exp.months >= 1
    assert exp.scenario_path.is_file()


def test_scenario_relative_to_repo_root(tmp_path):
    path = write(tmp_path, '"actors.iran.memory" = { low = 0.9, high = 0.99 }')
    path.write_text(path.read_text().replace(str(BASELINE), "scenarios/baseline.toml"))
    assert load_experiment(path).scenario_path == BASELINE.resolve()


def test_integer_parameters_are_flagged(tmp_path):
    exp = load_experiment(write(tmp_path, '"events.tehran_summit.month" = { low = 1, high = 24 }'))
    assert exp.parameters[0].integer


def test_shrink_and_fingerprint(tmp_path):
    exp = load_experiment(write(tmp_path, '"actors.iran.memory" = { low = 0.9, high = 0.99 }'))
    small = shrink(exp, points=2, replicates=1, months=3)
    assert (small.points, small.replicates, small.months) == (2, 1, 3)
    assert small.fingerprint() != exp.fingerprint()
    assert shrink(exp).fingerprint() == exp.fingerprint()


@pytest.mark.parametrize(
    ("params", "design", "field"),
    [
        ('"actors.iran.nope" = { low = 0, high = 1 }', 'method = "lhs"\npoints = 4', "nope"),
        (
            '"actors.iran.memory" = { low = 0.9, high = 0.5 }',
            'method = "lhs"\npoints = 4',
            "memory",
        ),
        (
            '"actors.iran.memory" = { low = 0.9, high = 1.5 }',
            'method = "lhs"\npoints = 4',
            "memory",
        ),
        ('"actors.iran.memory" = { low = 0.9 }', 'method = "lhs"\npoints = 4', "high"),
        ('"actors.iran.memory" = { low = 0.9, high = 0.99 }', 'method = "magic"', "design.method"),
        (
            '"actors.iran.memory" = { low = 0.9, high = 0.99 }',
            'method = "sobol"\npoints = 5',
            "points",
        ),
        ('"actors.iran.memory" = { low = 0.9, high = 0.99 }', 'method = "lhs"', "design.points"),
        ('"events.tehran_summit.month" = { low = 1.5, high = 3 }', 'method = "grid"', "month"),
        ('"actors.iran.memory" = { range = "vibes" }', 'method = "grid"', "range"),
    ],
)
def test_bad_input_names_file_and_field(tmp_path, params, design, field):
    path = write(tmp_path, params, design)
    with pytest.raises(SimInputError) as err:
        load_experiment(path)
    assert err.value.file == str(path)
    assert field in (err.value.field or "")


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, '"actors.iran.memory" = { low = 0.9, high = 0.99 }')
    path.write_text(path.read_text() + "\n[extra]\nx = 1\n")
    with pytest.raises(SimInputError, match="unknown key"):
        load_experiment(path)


def test_missing_scenario_and_file(tmp_path):
    path = write(tmp_path, '"actors.iran.memory" = { low = 0.9, high = 0.99 }')
    path.write_text(path.read_text().replace(str(BASELINE), "nowhere.toml"))
    with pytest.raises(SimInputError, match="scenario file not found"):
        load_experiment(path)
    with pytest.raises(SimInputError, match="does not exist"):
        load_experiment(tmp_path / "missing.toml")


def test_evidence_range_resolves_or_explains(tmp_path):
    path = write(tmp_path, '"actors.iran.memory" = { range = "evidence" }')
    try:
        from sim.scenario.evidence import evidence_ranges  # noqa: F401
    except ImportError:
        with pytest.raises(SimInputError, match="evidence"):
            load_experiment(path)
        return
    try:
        exp = load_experiment(path)
    except SimInputError as exc:  # the evidence may give no range for this parameter
        assert "evidence" in str(exc)
    else:
        p = exp.parameters[0]
        assert p.source == "evidence" and p.low < p.high


# --------------------------------------------------------------------------------------------
# Absurd sizes are refused while loading, with the limit in the message, before any sampling

MEMORY = '"actors.iran.memory" = { low = 0.9, high = 0.99 }'
FOUR = (
    MEMORY
    + "\n"
    + "\n".join(
        f'"actors.iran.salience.{i}" = {{ low = 0.1, high = 0.9 }}'
        for i in ("ukraine", "nuclear", "western_ties")
    )
)


@pytest.mark.parametrize(
    ("params", "design", "sizes", "field", "words"),
    [
        (MEMORY, 'method = "lhs"\npoints = 1e12', None, "design.points", "10,000,000]"),
        (MEMORY, 'method = "lhs"\npoints = 1_000_000_000_000', None, "design.points", "10,000,000]"),
        (MEMORY, 'method = "grid"\nlevels = 1e9', None, "design.levels", "10,000,000]"),
        (FOUR, 'method = "grid"\nlevels = 100', None, "design.levels", "100,000,000 points"),
        (FOUR, 'method = "sobol"\npoints = 4194304', None, "design.points", "25,165,824 points"),
        (MEMORY, 'method = "lhs"\npoints = 4', (1e12, 6), "experiment.replicates", "100,000,000]"),
        (MEMORY, 'method = "lhs"\npoints = 4', (2, 10**9), "experiment.months", "[1, 10,000]"),
        (MEMORY, 'method = "lhs"\npoints = 4', (10**6, 10_000), "experiment.replicates",
         "run-months"),
    ],
    ids=["lhs 1e12", "lhs 10^12", "grid levels 1e9", "grid 100^4", "sobol", "replicates",
         "months above the cap", "run-months"],
)  # fmt: skip
def test_absurd_sizes_are_refused_with_the_limit(tmp_path, params, design, sizes, field, words):
    path = write(tmp_path, params, design)
    if sizes:
        text = path.read_text().replace("replicates = 2\n", f"replicates = {sizes[0]}\n")
        path.write_text(text.replace("months = 6\n", f"months = {sizes[1]}\n"))
    start = time.perf_counter()
    with pytest.raises(SimInputError) as err:
        load_experiment(path)
    assert time.perf_counter() - start < 10
    assert err.value.field == field and words in str(err.value), str(err.value)


def test_whole_floats_count_as_integers(tmp_path):
    exp = load_experiment(write(tmp_path, MEMORY, 'method = "lhs"\npoints = 1e2'))
    assert exp.points == 100 and isinstance(exp.points, int)


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, MEMORY, 'method = "lhs"\npoints = 4', "deep = " + "[" * 500 + "]" * 500)
    with pytest.raises(SimInputError, match="nested too deeply"):
        load_experiment(path)
