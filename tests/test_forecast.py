"""Sealed forecasts: answers, records, the ledger and verification by re-running."""

import json

import pytest

from sim.commands.cli import main
from sim.errors import SimInputError
from sim.validation.forecast import forecast

from .conftest import ROOT

QUESTIONS = f"""[forecast]
name = "t"
scenario = "{(ROOT / "scenarios" / "history_2015_2025.toml").as_posix()}"
horizon = "2027-12"
replicates = 30
seed = 4

[questions.alliance]
label = "Alliance-level ties"
kind = "alignment_run"
pair = ["iran", "russia"]
threshold = 0.6
months = 6
window = ["2026-01", "2027-12"]
definition = "Iran-Russia above 0.6 for 6 months."
resolution = "A mutual-defence treaty ratified by both."

[questions.level]
label = "Iran-Russia alignment in 2027"
kind = "alignment_level"
pair = ["iran", "russia"]
window = ["2027-01", "2027-12"]
definition = "Mean Iran-Russia alignment in 2027."
resolution = "Through the measurement model."
"""


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text(QUESTIONS)
    return path


def test_answers_give_probabilities_and_quantiles(questions):
    record = forecast.answer(forecast.load_questions(questions))
    alliance, level = record["answers"]
    assert 0 <= alliance["probability"] <= 1 and alliance["type"] == "binary"
    q = list(level["quantiles"].values())
    assert list(level["quantiles"]) == ["0.05", "0.25", "0.5", "0.75", "0.95"] and q == sorted(q)
    assert record["months"] == 145 and record["seed"] == 4 and record["posterior"] is None
    assert len(record["scenario_sha256"]) == 64 and len(record["evidence_sha256"]) == 64
    assert forecast.answer(forecast.load_questions(questions)) == record  # same seed, same answers


def test_a_sealed_record_verifies_and_an_altered_one_fails(questions, tmp_path):
    book = tmp_path / "forecasts" / "LEDGER.md"
    out, row = forecast.seal(forecast.load_questions(questions), book, "2025-11-30T00:00:00+00:00")
    record = json.loads(out.read_text())
    assert out == tmp_path / "forecasts" / "records" / "t.json"
    assert record["git"]["commit"] and record["sim_version"] and record["seed"] == 4
    assert row.sha256 in book.read_text()
    assert all(c.passed for c in forecast.verify(out, book))

    record["answers"][0]["probability"] = 0.99
    out.write_text(json.dumps(record, indent=2) + "\n")
    checks = {c.name: c for c in forecast.verify(out, book)}
    assert not checks["ledger"].passed and "altered" in checks["ledger"].detail
    assert not checks["reproduces"].passed and "alliance" in checks["reproduces"].detail


def test_a_sealed_record_is_never_replaced(questions, tmp_path):
    book = tmp_path / "LEDGER.md"
    qs = forecast.load_questions(questions)
    forecast.seal(qs, book, "t")
    with pytest.raises(SimInputError, match="already sealed"):
        forecast.seal(qs, book, "t")


def test_changed_questions_fail_verification(questions, tmp_path):
    book = tmp_path / "LEDGER.md"
    out, _ = forecast.seal(forecast.load_questions(questions), book, "t")
    questions.write_text(QUESTIONS.replace("threshold = 0.6", "threshold = 0.5"))
    checks = {c.name: c for c in forecast.verify(out, book)}
    assert checks["ledger"].passed and not checks["questions"].passed
    assert not checks["reproduces"].passed


def test_a_question_needs_a_resolution_rule(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text(
        QUESTIONS.replace('resolution = "A mutual-defence treaty ratified by both."\n', "")
    )
    with pytest.raises(SimInputError, match="questions.alliance.resolution"):
        forecast.load_questions(path)


def test_the_shipped_unga_questions_need_a_calibration_and_read_states_as_it_does():
    from sim.scenario import load
    from sim.validation.data import measurement

    qs = forecast.load_questions(ROOT / "forecasts" / "questions" / "unga_2020_2023.toml")
    assert len(qs.questions) == 24 and {q.kind for q in qs.questions} == {"unga_distance"}
    with pytest.raises(SimInputError, match="--posterior"):
        forecast.answer(qs)
    # Each question names the states the measurement declaration reads for its actors.
    decl = measurement.load_declaration(qs.scenario, load(qs.scenario).actor_ids)
    for q in qs.questions:
        assert q.distance.year in (2020, 2021, 2022, 2023)
        for actor in q.distance.pair:
            assert all(code in q.distance.definition for code in decl.states[actor]), q.id


def test_the_shipped_outlook_questions_load():
    qs = forecast.load_questions(ROOT / "forecasts" / "questions" / "outlook_2026_2030.toml")
    ids = {q.id for q in qs.questions}
    assert {
        "iran_russia_alliance_2030",
        "russia_trades_iran_2030",
        "iran_us_qualified_alignment_2030",
    } <= ids
    assert all(q.resolution for q in qs.questions)


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_command_seals_and_verifies(questions, tmp_path, capsys):
    book = tmp_path / "LEDGER.md"
    code, out, _ = run(["forecast", questions], capsys)
    assert code == 0 and "not sealed" in out and not book.exists()
    code, out, _ = run(["forecast", questions, "--seal", "--ledger", book], capsys)
    assert code == 0 and "sealed:" in out
    record = tmp_path / "records" / "t.json"
    code, out, _ = run(["forecast", "verify", record, "--ledger", book], capsys)
    assert code == 0 and "reproduces" in out and "FAIL" not in out
    record.write_text(record.read_text().replace('"seed": 4', '"seed": 5'))
    code, out, _ = run(["forecast", "verify", record, "--ledger", book], capsys)
    assert code == 1 and "FAIL  ledger" in out and "does NOT verify" in out
    code, _, err = run(["forecast", "verify"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_the_shipped_sealed_records_match_the_ledger():
    # Only the seal is checked here: a re-run reproduces a record with the code of the commit
    # it names (`sim forecast verify` at that commit), not necessarily with later models.
    from sim.validation.forecast import ledger

    book = ROOT / "forecasts" / "LEDGER.md"
    rows = ledger.rows(book)
    assert rows
    for row in rows:
        ok, why = ledger.check(book, book.parent / row.record)
        assert ok, why


def test_verify_takes_several_records(questions, tmp_path, capsys):
    book = tmp_path / "LEDGER.md"
    assert run(["forecast", questions, "--seal", "--ledger", book], capsys)[0] == 0
    good = tmp_path / "records" / "t.json"
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace('"seed": 4', '"seed": 5'))
    code, out, _ = run(["forecast", "verify", good, good, "--ledger", book], capsys)
    assert code == 0 and out.count(": reproduces") == 2 and "2 of 2 records reproduce" in out
    code, out, _ = run(["forecast", "verify", good, bad, "--ledger", book], capsys)
    assert code == 1 and "1 of 2 records reproduce" in out
    code, _, err = run(["forecast", "verify", good, tmp_path / "none.json"], capsys)
    assert code == 2 and "none.json" in err
