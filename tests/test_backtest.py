"""The backtest: forecasts, baselines, scores per period, the command and its report."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.commands.cli import main
from sim.validation.backtest import backtest, ensemble, scores
from sim.validation.backtest.events import load_events

from .conftest import ROOT

EVENTS = ROOT / "backtests" / "history_2015_2025" / "events.toml"


@pytest.fixture(scope="module")
def scored():
    events = load_events(EVENTS)
    return backtest.score(events, ensemble.build(events.scenario, 60, seed=5), seed=5)


def test_every_event_in_scope_is_forecast_and_scored(scored):
    t = scored.table
    assert list(t.event) == [e.id for e in scored.events.scored]
    binary, count = t[t.type == "binary"], t[t.type == "count"]
    assert binary.forecast.between(0, 1).all()
    assert binary[["brier_model", "log_model"]].notna().all().all()
    assert count.crps_model.notna().all() and count.brier_model.isna().all()
    assert (binary["brier_always_0.5"] == 0.25).all()


def test_scores_are_the_rules_applied_to_the_forecasts(scored):
    t = scored.table[scored.table.type == "binary"]
    np.testing.assert_allclose(t.brier_model, (t.forecast - t.observed) ** 2)
    np.testing.assert_allclose(t.log_persistence, scores.log_score(t.observed, t.persistence))
    runs = scored.values
    e = scored.table.iloc[0]
    assert e.forecast == pytest.approx(runs[e.event].mean())


def test_base_rate_is_the_calibration_share_of_the_same_kind():
    events = load_events(EVENTS).scored
    rates = backtest.base_rates(events)
    changes = [
        e for e in events if e.period == "calibration" and e.observable.kind == "alignment_change"
    ]
    share = np.mean([e.observed for e in changes])
    assert all(rates[e.id] == share for e in events if e.observable.kind == "alignment_change")
    run = next(e for e in events if e.observable.kind == "alignment_run")
    calib_binary = [e.observed for e in events if e.period == "calibration" and e.observable.binary]
    assert rates[run.id] == pytest.approx(np.mean(calib_binary))  # no such kind before 2020


def test_summary_has_each_period_and_score_with_intervals(scored):
    s = scored.summary
    assert set(s.period) == {"calibration", "after", "all"}
    assert set(s.score) == {"brier", "log", "crps"}
    model = s[s.forecaster == "model"]
    assert model.model_minus.isna().all()
    others = s[s.forecaster != "model"]
    assert (others.low95 <= others.model_minus + 1e-12).all()
    assert (others.model_minus <= others.high95 + 1e-12).all()
    row = s[(s.period == "all") & (s.score == "brier") & (s.forecaster == "always_0.5")].iloc[0]
    mean_model = s[(s.period == "all") & (s.score == "brier") & (s.forecaster == "model")]["mean"]
    assert row.model_minus == pytest.approx(float(mean_model.iloc[0]) - 0.25)


def test_worst_events_come_first(scored):
    worst = backtest.worst(scored.table, 3)
    assert worst.badness.is_monotonic_decreasing and len(worst) == 3


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_command_prints_the_table_and_writes_a_self_describing_directory(tmp_path, capsys):
    out = tmp_path / "bt"
    code, stdout, _ = run(["backtest", EVENTS, "-n", "40", "--seed", "2", "--out", out], capsys)
    assert code == 0
    assert "always_0.5" in stdout and "persistence" in stdout and "most wrong" in stdout
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "backtest" and meta["seed"] == 2 and meta["replicates"] == 40
    assert meta["events_sha256"] and meta["scenario_name"] == "history_2015_2025"
    assert meta["out_of_scope"] == ["assad_falls", "russia_military_help_2025_06"]
    assert len(pd.read_parquet(out / "events.parquet")) == 27
    names = {p.name for p in (out / "figures").iterdir()}
    assert {"reliability_calibration.png", "reliability_after.png", "events_after.svg"} <= names
    again = tmp_path / "bt2"
    run(["backtest", EVENTS, "-n", "40", "--seed", "2", "--out", again, "--no-figures"], capsys)
    for name in ("events.parquet", "scores.parquet", "values.parquet"):
        assert (out / name).read_bytes() == (again / name).read_bytes()  # same seed, same bytes
    other = tmp_path / "bt3"
    run(["backtest", EVENTS, "-n", "40", "--seed", "3", "--out", other, "--no-figures"], capsys)
    assert (out / "values.parquet").read_bytes() != (other / "values.parquet").read_bytes()

    report = tmp_path / "report.html"
    code, _, _ = run(["report", out, "--out", report], capsys)
    html = report.read_text()
    assert code == 0 and "Backtest: history_2015_2025" in html and "reliability_after" in html


def test_the_command_refuses_an_event_without_a_source(tmp_path, capsys):
    bad = tmp_path / "events.toml"
    text = EVENTS.read_text().replace(
        'scenario = "../../', f'scenario = "{EVENTS.parent.parent.parent.as_posix()}/'
    )
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("source = "))
    bad.write_text("\n".join(lines[:first] + lines[first + 1 :]))
    code, _, err = run(["backtest", bad, "-n", "5", "--out", tmp_path / "x"], capsys)
    assert code == 2 and "events.iran_russia_2018_2019.source" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def test_the_command_takes_the_shipped_calibration_of_the_base_scenario(tmp_path, capsys):
    cal = ROOT / "calibrations" / "baseline_until_2019"
    out = tmp_path / "bt"
    argv = ["backtest", EVENTS, "-n", "30", "--out", out, "--no-figures", "--posterior", cal]
    code, stdout, _ = run(argv, capsys)
    assert code == 0 and f"posterior {cal}" in stdout
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["parameter_source"] == "posterior" and meta["posterior"] == str(cal)
    assert len(meta["varied"]) == 5 and len(meta["posterior_sha256"]) == 64

    # A calibration of a scenario the events' scenario does not extend: one line, exit 2.
    other = tmp_path / "other"
    shutil.copytree(cal, other, ignore=shutil.ignore_patterns("*.parquet"))
    shutil.copy(cal / "posterior.parquet", other)
    meta = json.loads((other / "metadata.json").read_text())
    (other / "metadata.json").write_text(json.dumps({**meta, "scenario_name": "shared_war"}))
    argv[argv.index(cal)] = other
    argv[argv.index(out)] = tmp_path / "bt2"
    code, _, err = run(argv, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "another scenario" in err and "shared_war" in err
