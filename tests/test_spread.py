"""The headline's spread over plausible parameter settings (sim.analysis.spread and
sim.validation.headline), and that `sim run` prints it by default."""

import json

import numpy as np
import pandas as pd

from sim import scenario
from sim.analysis import spread
from sim.commands.cli import main
from sim.validation import headline

from .conftest import BASELINE


def test_spread_states_per_setting_shares_and_ranks_the_parameter_that_moves_them():
    # Setting s has share s/9 of its 10 runs; parameter "a" rises with s, "b" is noise.
    setting = np.repeat(np.arange(10), 10)
    hit = np.concatenate([np.arange(10) < s for s in range(10)])
    runs = pd.DataFrame({"bloc_change": hit})
    gen = np.random.default_rng(0)
    values = pd.DataFrame({"a": np.arange(10.0), "b": gen.permutation(10).astype(float)})
    data = spread.spread(runs, setting, values, source="test")
    (row,) = data["rows"]
    assert row["key"] == "p_bloc_change"
    assert row["min"] == 0.0 and row["max"] == 0.9 and row["median"] == 0.45
    assert row["pooled"] == hit.mean()
    assert row["drivers"][0] == ["a", 1.0]
    assert data["settings"] == 10 and data["runs_per_setting"] == 10


def test_no_drivers_when_the_share_never_moves():
    assert spread.drivers(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), np.zeros(3)) == []


def test_parameter_spread_is_reproducible_and_skips_fixed_numbers():
    sc = scenario.load(BASELINE)
    a = headline.parameter_spread(sc, 30, seed=2, months=24, settings=4)
    b = headline.parameter_spread(sc, 30, seed=2, months=24, settings=4)
    assert a == b
    assert a["runs_per_setting"] == 10
    name = "actors.russia.salience.ukraine"
    assert name in a["varied"]
    fixed = headline.parameter_spread(sc, 30, seed=2, months=24, settings=4, fixed=[name])
    assert name not in fixed["varied"]


def test_baseline_headline_carries_the_spread_over_parameter_draws(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "40", "--seed", "1", "--months", "60", "--out", str(out)]
    assert main([*args, "--no-figures", "--parameter-draws", "8"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("P(betrayal: at least one"))
    assert "over 8 parameter settings: pooled" in lines[k + 1]
    assert "seed noise" in lines[k + 1]
    assert "seed noise only" in text and "evidence ranges" in text
    saved = json.loads((out / spread.FILE).read_text())
    assert saved["settings"] == 8 and saved["rows"]


def test_parameter_draws_zero_says_parameter_uncertainty_was_not_computed(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "20", "--months", "12", "--out", str(out), "--no-figures"]
    assert main([*args, "--parameter-draws", "0"]) == 0
    text = capsys.readouterr().out
    assert "parameter settings:" not in text
    assert "Parameter uncertainty was not computed" in text
    assert not (out / spread.FILE).exists()


def test_median_month_and_its_date_agree_and_months_print_as_whole_numbers(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "400", "--seed", "1", "--out", str(out), "--no-figures"]
    assert main([*args, "--parameter-draws", "0"]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("median month of first betrayal"))
    month = int(line.split()[5])  # a whole number, not "49.000"
    sc = scenario.load(BASELINE)
    assert f"median date {sc.date(month)}" in line


def test_with_a_posterior_the_settings_are_its_particles(tmp_path, capsys):
    from .conftest import ROOT

    post = ROOT / "calibrations" / "baseline_until_2019"
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "-n", "20", "--months", "12", "--out", str(out)]
    assert main([*args, "--no-figures", "--posterior", str(post), "--parameter-draws", "4"]) == 0
    text = capsys.readouterr().out
    assert "over 4 parameter settings" in text and "drawn from the posterior" in text
