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
