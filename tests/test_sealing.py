"""Sealing is crash-consistent and the ledger cannot be forged through a field: a sealing
process killed (SIGKILL) between any two steps leaves no sealed record, or a record and its
row, or a record without a row that `verify` reports and the next --seal repairs.
"""

import signal
import subprocess
import sys
import textwrap

import pytest

from sim.errors import SimInputError
from sim.validation.forecast import forecast, ledger

from .conftest import ROOT
from .test_forecast import QUESTIONS

# Replace a function by one that kills the process (SIGKILL) when called, then run the CLI.
KILL_AT = textwrap.dedent(
    """
    import importlib, os, signal, sys
    module, name = sys.argv[1].rsplit(".", 1)
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(importlib.import_module(module), name, die)
    from sim.commands.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)
STEPS = [
    "sim.validation.forecast.forecast.answer",  # before anything is written
    "sim.validation.forecast.forecast.write_text",  # the lock held, the record not written
    "sim.validation.forecast.ledger.append",  # the record written, its row not appended
    "sim.validation.forecast.ledger.write_text",  # the row made, the ledger not replaced
]


def test_a_seal_killed_at_any_step_leaves_a_consistent_ledger(tmp_path):
    questions = tmp_path / "q.toml"
    questions.write_text(QUESTIONS)
    book = tmp_path / "forecasts" / "LEDGER.md"
    record = book.parent / "records" / "t.json"
    args = ["forecast", str(questions), "--seal", "--ledger", str(book)]
    for step in STEPS:
        killed = subprocess.run([sys.executable, "-c", KILL_AT, step, *args], cwd=ROOT)
        assert killed.returncode == -signal.SIGKILL, step
        assert ledger.rows(book) == [], step  # nothing sealed
        if record.exists():  # written, not sealed: verify says so and names the repair
            ok, why = ledger.check(book, record)
            assert not ok and "not sealed" in why and "--seal" in why
    assert record.exists()  # the later steps did write it
    done = subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr
    (row,) = ledger.rows(book)
    assert row.record == "records/t.json" and ledger.check(book, record)[0]
    leftovers = [p.name for p in book.parent.rglob(".*")]
    assert leftovers == [], leftovers  # temporaries and the dead sealers' lock are gone


@pytest.mark.parametrize(
    "name",
    ["../../escaped", "/tmp/abs", "x\n| 2001-01-01 | records/forged.json | " + "0" * 64, "a|b",
     "n" * 300, "", "naïve", "a.b"],
)  # fmt: skip
def test_a_forecast_name_is_a_plain_identifier(tmp_path, name):
    questions = tmp_path / "q.toml"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    questions.write_text(QUESTIONS.replace('name = "t"', f'name = "{escaped}"'))
    with pytest.raises(SimInputError) as err:
        forecast.load_questions(questions)
    assert "forecast.name: " in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "sealed, record",
    [("2001-01-01\n| x", "records/r.json"), ("t", "records/a|b.json"), ("t", "records/a b.json")],
)
def test_a_row_with_a_field_that_could_forge_a_row_is_refused(tmp_path, sealed, record):
    book = tmp_path / "LEDGER.md"
    with pytest.raises(SimInputError, match="cannot be written to the ledger"):
        ledger.check_row(ledger.Row(sealed, record, "0" * 64))
    assert not book.exists()
