"""Sealed forecasts answered by the measured core (``[forecast] forecaster = "core"``)."""

from pathlib import Path

import pytest

from sim.errors import SimInputError
from sim.validation.forecast import forecast

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = """
[forecast]
name = "core_test"
scenario = "{scenario}"
forecaster = "core"
until = {until}
horizon = "2019-12"
replicates = 300
seed = 4

[questions.ir_2018]
label = "IRN-RUS 2018"
kind = "unga_distance"
pair = ["russia", "iran"]
year = 2018
window = ["2018-01", "2018-12"]
definition = "distance"
resolution = "the data"
"""


def _questions(tmp_path: Path, until: int) -> Path:
    path = tmp_path / "q.toml"
    path.write_text(QUESTIONS.format(scenario=ROOT / "scenarios" / "baseline.toml", until=until))
    return path


def test_the_core_answers_from_the_data_up_to_its_cutoff_reproducibly(tmp_path):
    qs = forecast.load_questions(_questions(tmp_path, 2016))
    first = forecast.answer(qs)
    assert first["forecaster"] == "core" and first["until"] == 2016
    assert first == forecast.answer(qs)
    q = first["answers"][0]["quantiles"]
    assert 0 < q["0.05"] < q["0.5"] < q["0.95"]


def test_the_core_refuses_a_session_it_saw(tmp_path):
    qs = forecast.load_questions(_questions(tmp_path, 2018))
    with pytest.raises(SimInputError, match="saw this session"):
        forecast.answer(qs)


def test_a_cutoff_without_the_core_is_an_input_error(tmp_path):
    path = _questions(tmp_path, 2016)
    path.write_text(path.read_text().replace('forecaster = "core"\n', ""))
    with pytest.raises(SimInputError, match="forecast.until"):
        forecast.load_questions(path)


def test_forecast_shows_the_rolling_origin_skill_at_each_answers_horizon(tmp_path):
    import json

    import pandas as pd

    from sim.commands.forecast import _skill, render

    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "metadata.json").write_text(json.dumps({"kind": "evaluation", "origins": [2008, 2019]}))
    pd.DataFrame(
        {
            "forecaster": ["core", "core", "mean5"],
            "group": ["all", "horizon=2", "horizon=2"],
            "n": [10, 5, 5],
            "crps": [0.2, 0.123, 0.9],
            "cover_50": [0.5, 0.6, 0.1],
            "cover_90": [0.9, 1.0, 0.1],
        }
    ).to_parquet(ev / "summary.parquet")
    qs = forecast.load_questions(_questions(tmp_path, 2016))
    text = render(forecast.answer(qs), _skill(ev, qs, None))
    assert "core, 2 ahead: CRPS 0.123, 50% intervals covered 60%, 90% intervals 100% (n=5)" in text
    with pytest.raises(SimInputError, match="not an evaluation directory"):
        (ev / "metadata.json").write_text(json.dumps({"kind": "backtest"}))
        _skill(ev, qs, None)


def test_core_plus_model_is_ex_ante_and_reports_its_coefficient(tmp_path):
    path = _questions(tmp_path, 2017)
    text = path.read_text().replace('forecaster = "core"', 'forecaster = "core_model"')
    text = text.replace("baseline.toml", "history_2015_2025.toml").replace("300", "20")
    path.write_text(text)
    record = forecast.answer(forecast.load_questions(path))
    assert record["forecaster"] == "core_model"
    assert "us_administration_2021" in record["ex_ante"]  # dated after 2017-12: dropped
    assert "us_leaves_deal" in record["ex_ante"]  # 2018-05: also after 2017-12
    assert "us_administration_2017" not in record["ex_ante"]  # 2017-01: known, held in force
    coef = record["coefficient"]
    assert coef["n"] == 2 * 6 + 6  # origins 2015 (h 1-2) and 2016 (h 1), six pairs each
    assert coef["low90"] <= coef["beta"] <= coef["high90"]
