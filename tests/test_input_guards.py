"""Inputs that used to end in a traceback, be accepted as nonsense or blame the wrong thing:
each is now one line on stderr naming the file or option, exit status 2.
"""

import json
import subprocess
import sys

import pytest

from sim.commands.cli import main

from .conftest import BASELINE, ROOT

BASE = BASELINE.read_text()
EVENTS = ROOT / "backtests" / "history_2015_2025" / "events.toml"


def sub(old, new, text=BASE):
    assert old in text, old
    return text.replace(old, new, 1)


def one_line(capsys, argv):
    """Run ``sim ARGV``; return its one line of stderr after checking exit status 2."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


GULF_ACTIONS = ("back_opposition", "contain_iran", "accommodate")
NO_ACTION = BASE
for _a in GULF_ACTIONS:
    NO_ACTION = sub(f"[actors.gulf.actions.{_a}]\n", f"[actors.gulf.actions.{_a}]\navailable = false\n", NO_ACTION)  # fmt: skip

SCENARIOS = [
    # (id, scenario text, words in the message)
    (
        "temperature 5e-324 (NaN state)",
        sub("temperature = 0.1", "temperature = 5e-324"),
        "actors.iran.temperature: out of range",
    ),
    ("no available action (NaN state)", NO_ACTION, "actors.gulf.actions: no available action"),
    (
        "partnership longer than the horizon",
        sub("months = 12        # assumption", "months = 121       # assumption"),
        "outcomes.partnership.months: out of range",
    ),
    (
        "start with a newline",
        sub('start = "2015-12"', 'start = "2015-12\\n"'),
        "scenario.start: not a month",
    ),
    (
        "start with full-width digits",
        sub('start = "2015-12"', 'start = "２０１５-12"'),
        "scenario.start: not a month",
    ),
]


@pytest.mark.parametrize("text, words", [c[1:] for c in SCENARIOS], ids=[c[0] for c in SCENARIOS])
def test_nonsense_scenarios_are_one_line(tmp_path, capsys, text, words):
    path = tmp_path / "s.toml"
    path.write_text(text)
    err = one_line(capsys, ["run", path, "-n", "2", "--months", "3", "--out", tmp_path / "o"])
    assert words in err and str(path) in err
    assert not (tmp_path / "o").exists()


OPTIONS = [
    # (id, argv, words in the message)
    ("calibrate --population 1e12", ["calibrate", "--until", "2019", "--population", "1e12"],
     "--population: above the limit"),
    ("calibrate --workers 10000", ["calibrate", "--until", "2019", "--workers", "10000"],
     "--workers: above the limit"),
    ("calibrate --generations 0", ["calibrate", "--until", "2019", "--generations", "0"],
     "--generations: below the minimum"),
    ("calibrate duplicated --parameters",
     ["calibrate", "--until", "2019", "--parameters", "dynamics.action", "dynamics.action"],
     "--parameters: a parameter is named twice"),
    ("calibrate --scheduler 'not a url'",
     ["calibrate", "--until", "2019", "--scheduler", "not a url"],
     "--scheduler: not a Dask scheduler address"),
    ("calibrate --until 2030 on data ending in 2019", ["calibrate", "--until", "2030"],
     "--until: after the last session in the data"),
    ("sweep --workers 10000", ["sweep", "x.toml", "--workers", "10000"],
     "--workers: above the limit"),
    ("whatif --at ²", ["whatif", "--at", "²"], "--at: not a month"),
    ("levers --seed -1", ["levers", "r", "--outcome", "x", "--seed", "-1"],
     "--seed: below the minimum"),
    ("levers --above nan", ["levers", "r", "--outcome", "x", "--above", "nan"],
     "--above: expected a finite number"),
    ("levers --density 7", ["levers", ROOT, "--outcome", "x", "--density", "7"],
     "--density: must be in (0, 1]"),
    ("explain -n 0", ["explain", "-n", "0"], "--replicates/-n: below the minimum"),
    ("explain --seed -1", ["explain", "--seed", "-1"], "--seed: below the minimum"),
]  # fmt: skip


@pytest.mark.parametrize("argv, words", [c[1:] for c in OPTIONS], ids=[c[0] for c in OPTIONS])
def test_bad_options_are_one_line_before_any_work(capsys, argv, words):
    assert words in one_line(capsys, argv)


def test_bare_sim_is_a_short_usage(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 3 and err[0].startswith("usage: sim") and "--help" in err[-1]


# --------------------------------------------------------------------------------------------
# Files the tool wrote, forged


@pytest.fixture(scope="module")
def run_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "run"
    cmd = [sys.executable, "-m", "sim", "run", str(BASELINE), "-n", "4", "--months", "6"]
    subprocess.run([*cmd, "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("months", 10**9, "months: above the limit"),
        ("months", "many", "months: expected a whole number"),
        ("seed", "abc", "seed: expected a whole number"),
        ("replicates", [1], "replicates: expected a whole number"),
    ],
)
def test_forged_results_metadata_is_refused_before_a_replay(
    tmp_path, capsys, run_results, key, value, words
):
    import shutil

    forged = tmp_path / "forged"
    shutil.copytree(run_results, forged)
    meta = json.loads((forged / "metadata.json").read_text())
    meta[key] = value
    (forged / "metadata.json").write_text(json.dumps(meta))
    err = one_line(capsys, ["explain", forged])
    assert words in err and "metadata.json" in err


def _questions(tmp_path, **changes):
    text = (ROOT / "forecasts" / "questions" / "outlook_2026_2030.toml").read_text()
    text = text.replace('"../../scenarios/', f'"{(ROOT / "scenarios").as_posix()}/')
    for old, new in changes.items():
        text = sub(old, new, text)
    path = tmp_path / "q.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("replicates = 2000", "replicates = 1000000000000", "forecast.replicates: above the limit"),
        ('horizon = "2030-12"', 'horizon = "2999-12"', "forecast.horizon (months from"),
        ("replicates = 2000", "replicates = 10000000", "forecast.replicates: 10,000,000 repl"),
    ],
)
def test_forecast_sizes_are_checked_before_any_run(tmp_path, capsys, old, new, words):
    assert words in one_line(capsys, ["forecast", _questions(tmp_path, **{old: new})])


def test_a_nan_observation_is_refused(tmp_path):
    from sim.errors import SimInputError
    from sim.validation.backtest.events import load_events

    text = EVENTS.read_text().replace(
        'actions = ["accommodate"]\nwindow = ["2016-01", "2016-12"]\nobserved = 0\n',
        'actions = ["accommodate"]\nwindow = ["2016-01", "2016-12"]\nobserved = nan\n',
    )
    assert "observed = nan" in text
    path = tmp_path / "events.toml"
    path.write_text(text.replace('scenario = "../../', f'scenario = "{ROOT.as_posix()}/'))
    with pytest.raises(SimInputError, match="gulf_accommodates_2016.observed: expected a finite"):
        load_events(path)


@pytest.mark.parametrize(
    "scenario, words",
    [
        ("/dev/zero", "/dev/zero: unexpected file type"),
        ("bad.toml", "actors.iran.temperature: out of range"),
        ("missing.toml", "scenario file not found"),
    ],
)
def test_an_experiment_names_its_own_scenario_field(tmp_path, capsys, scenario, words):
    (tmp_path / "bad.toml").write_text(sub("temperature = 0.1", "temperature = 0"))
    path = tmp_path / "e.toml"
    path.write_text(
        f'[experiment]\nname = "e"\nscenario = "{scenario}"\n[design]\nmethod = "lhs"\n'
        'points = 3\n[parameters]\n"dynamics.rate" = { low = 0.1, high = 0.2 }\n'
    )
    err = one_line(capsys, ["sweep", path, "--out", tmp_path / "o"])
    assert f"{path}: experiment.scenario: " in err and words in err
