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
