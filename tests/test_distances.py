"""UN General Assembly distance forecasts through a calibration's measurement model."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.commands.cli import main
from sim.errors import SimInputError
from sim.scenario import load
from sim.validation.backtest import ensemble
from sim.validation.forecast import distances, forecast

from .conftest import ROOT

CALIBRATION = ROOT / "calibrations" / "baseline_until_2019"
BASELINE = ROOT / "scenarios" / "baseline.toml"

QUESTION = """
[questions.{id}]
label = "distance"
kind = "unga_distance"
pair = {pair}
year = {year}
window = ["{year}-01", "{year}-12"]
definition = "|ideal point of IRN - ideal point of RUS|."
resolution = "The data's session of that year."
"""


def questions_file(tmp_path, scenario, asked, seed=7, horizon="2021-12", name="u"):
    """A small questions file: ``asked`` is a list of (id, pair, year)."""
    text = (
        f'[forecast]\nname = "{name}"\nscenario = "{scenario.as_posix()}"\n'
        f'horizon = "{horizon}"\nreplicates = 40\nseed = {seed}\n'
    )
    for qid, pair, year in asked:
        text += QUESTION.format(id=qid, pair=json.dumps(list(pair)), year=year)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


ASKED = [
    ("ir_2020", ("iran", "russia"), 2020),
    ("ru_2021", ("russia", "iran"), 2021),  # either order names the pair
    ("ig_2021", ("iran", "gulf"), 2021),
]


@pytest.fixture
def scenarios(tmp_path):
    """A copy of the shipped scenarios (with their evidence and measurement folders)."""
    return shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")


def test_in_sample_the_forecast_reproduces_the_calibrations_predictive_bands():
    # The sessions the calibration fitted, read through `values` on the calibrated scenario,
    # must agree with the calibration's own posterior predictive (simulated by sim calibrate
    # through `Problem.distances`), up to sampling error: one measurement model, not two.
    sc = load(BASELINE)
    ens = ensemble.build(BASELINE, 600, 7, 49, "posterior", CALIBRATION)
    model = distances.prepare(ens.post, str(BASELINE), sc)
    asked = [
        distances.DistanceQuestion(f"{a}-{b}-{y}", "x", (f"{y}-01", f"{y}-12"), "d", (a, b), y)
        for a, b in model.declaration.pairs
        for y in (2016, 2019)
    ]
    got = distances.values(
        asked, model, ens.traj, ens.params.actors, ens.post.draw_measurement(600, 7), 7
    )
    bands = pd.read_parquet(CALIBRATION / "predictive.parquet").set_index(["pair", "year"])
    for q in asked:
        row = bands.loc[(f"{q.pair[0]}-{q.pair[1]}", q.year)]
        mine = np.quantile(got[q.id], [0.05, 0.5, 0.95])
        assert mine == pytest.approx([row.q05, row.q50, row.q95], abs=0.12), q.id


def test_answers_have_ordered_quantiles_the_hashes_and_repeat_with_the_seed(tmp_path):
    path = questions_file(tmp_path, ROOT / "scenarios" / "history_2015_2025.toml", ASKED)
    record = forecast.answer(forecast.load_questions(path), CALIBRATION)
    for a in record["answers"]:
        q = list(a["quantiles"].values())
        assert a["type"] == "numeric" and q == sorted(q) and q[0] >= 0
        assert a["session_months"] == [f"{a['year']}-09", f"{a['year']}-12"]
    assert record["answers"][1]["pair"] == ["russia", "iran"]
    assert all(len(record[k]) == 64 for k in forecast.HASHED)
    m = record["measurement"]
    assert m["data_until"] == 2019 and m["sd_from_years"] == [2016, 2017, 2018, 2019]
    assert m["states"]["gulf"] == ["SAU", "ARE", "BHR", "KWT", "OMN", "QAT"]
    assert "posterior" in record["parameters"]
    assert forecast.answer(forecast.load_questions(path), CALIBRATION) == record
    other = questions_file(
        tmp_path, ROOT / "scenarios" / "history_2015_2025.toml", ASKED, seed=8, name="v"
    )
    again = forecast.answer(forecast.load_questions(other), CALIBRATION)
    assert again["answers"][0]["quantiles"] != record["answers"][0]["quantiles"]


def test_a_question_does_not_change_another_questions_answer(tmp_path):
    history = ROOT / "scenarios" / "history_2015_2025.toml"
    both = forecast.answer(
        forecast.load_questions(questions_file(tmp_path, history, ASKED)), CALIBRATION
    )
    one = forecast.answer(
        forecast.load_questions(questions_file(tmp_path, history, ASKED[2:], name="w")),
        CALIBRATION,
    )
    assert one["answers"][0] == both["answers"][2]


def test_seal_and_verify_and_what_fails_verification(tmp_path, scenarios, capsys):
    path = questions_file(tmp_path, scenarios / "history_2015_2025.toml", ASKED)
    book = tmp_path / "forecasts" / "LEDGER.md"
    argv = ["forecast", str(path), "--posterior", str(CALIBRATION), "--ledger", str(book)]
    assert main([*argv, "--seal"]) == 0
    record = tmp_path / "forecasts" / "records" / "u.json"
    sealed = json.loads(record.read_text())
    assert (record.parent / sealed["posterior"]).resolve() == CALIBRATION.resolve()
    assert sealed["measurement"]["declaration"] == "../../scenarios/measurement/baseline.toml"
    capsys.readouterr()
    assert main(["forecast", "verify", str(record), "--ledger", str(book)]) == 0
    out = capsys.readouterr().out
    for name in ("posterior", "measurement", "data", "reproduces"):
        assert f"PASS  {name}" in out

    # The measurement declaration's bytes changed (its meaning did not): a hash check fails.
    decl = scenarios / "measurement" / "baseline.toml"
    decl.write_text(decl.read_text() + "# edited\n")
    assert main(["forecast", "verify", str(record), "--ledger", str(book)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  measurement" in out and "PASS  reproduces" in out

    # An altered answer fails against the ledger and the re-run.
    sealed["answers"][0]["quantiles"]["0.5"] += 0.01
    record.write_text(json.dumps(sealed, indent=2) + "\n")
    assert main(["forecast", "verify", str(record), "--ledger", str(book)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  ledger" in out and "answers differ for ir_2020" in out


@pytest.mark.parametrize(
    ("asked", "horizon", "field", "message"),
    [
        ([("a", ("iran", "russia"), 2019)], "2021-12", "questions.a.year", "calibration saw"),
        ([("a", ("iran", "russia"), 2022)], "2021-12", "questions.a.year", "horizon"),
        ([("a", ("iran", "china"), 2020)], "2021-12", "questions.a.pair", "not a measured pair"),
    ],
    ids=["fitted-session", "past-horizon", "unmeasured-pair"],
)
def test_unanswerable_questions_are_refused(tmp_path, asked, horizon, field, message):
    path = questions_file(tmp_path, ROOT / "scenarios" / "history_2015_2025.toml", asked)
    path.write_text(path.read_text().replace('horizon = "2021-12"', f'horizon = "{horizon}"'))
    with pytest.raises(SimInputError, match=message) as err:
        forecast.answer(forecast.load_questions(path), CALIBRATION)
    assert field in str(err.value)


def test_a_window_that_misses_the_session_or_a_bad_table_is_refused(tmp_path):
    history = ROOT / "scenarios" / "history_2015_2025.toml"
    path = questions_file(tmp_path, history, ASKED[:1])
    path.write_text(path.read_text().replace('"2020-01", "2020-12"', '"2020-01", "2020-06"'))
    with pytest.raises(SimInputError, match="session's months"):
        forecast.answer(forecast.load_questions(path), CALIBRATION)
    for old, new in (("year = 2020", "year = true"), ('pair = ["iran"', 'pair = ["russia"')):
        path = questions_file(tmp_path, history, ASKED[:1])
        path.write_text(path.read_text().replace(old, new))
        with pytest.raises(SimInputError):
            forecast.load_questions(path)


def test_without_a_calibration_distance_questions_are_refused(tmp_path, capsys):
    path = questions_file(tmp_path, ROOT / "scenarios" / "history_2015_2025.toml", ASKED)
    assert main(["forecast", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--posterior" in err and len(err.strip().splitlines()) == 1


def test_a_changed_measurement_declaration_is_refused(tmp_path, scenarios):
    decl = scenarios / "measurement" / "baseline.toml"
    decl.write_text(
        decl.read_text().replace("session_months = [9, 12]", "session_months = [1, 12]")
    )
    path = questions_file(tmp_path, scenarios / "history_2015_2025.toml", ASKED)
    with pytest.raises(SimInputError, match="changed since the calibration"):
        forecast.answer(forecast.load_questions(path), CALIBRATION)
