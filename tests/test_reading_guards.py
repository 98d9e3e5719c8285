"""Reading outside the project: every file goes through the one bounded reader, files named
inside a file resolve only inside the folders it may reach, and no refusal quotes a file.
"""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.commands.cli import main
from sim.errors import SimInputError
from sim.scenario import files
from sim.validation.calibration import posterior
from sim.validation.data import measurement as ms
from sim.validation.data import unga
from sim.validation.forecast import forecast, ledger

from .conftest import ROOT

SHIPPED_CALIBRATION = ROOT / "calibrations" / "baseline_until_2019"
SECRET = "password=hunter2"


def declaration(tmp_path, file):
    (tmp_path / "measurement").mkdir(exist_ok=True)
    (tmp_path / "s.toml").write_text("")
    (tmp_path / "measurement" / "s.toml").write_text(
        f'[data]\nfile = "{file}"\nanchor = [2011, 2015]\nsession_months = [9, 12]\n'
        '[states]\niran = ["IRN"]\nrussia = ["RUS"]\n'
    )
    return tmp_path / "s.toml"


@pytest.mark.parametrize(
    "file, words",
    [
        ("/etc/shadow", "absolute path"),
        ("../../../../etc/passwd", "outside"),
        ("unga/../../../secret.csv", "outside"),
    ],
)
def test_a_declaration_names_data_only_inside_the_shipped_data(tmp_path, baseline, file, words):
    with pytest.raises(SimInputError, match=words) as err:
        ms.load_declaration(declaration(tmp_path, file), baseline.actor_ids)
    assert "data.file" in str(err.value)


def test_a_missing_data_file_names_the_declaration_and_field(tmp_path, baseline):
    decl = ms.load_declaration(declaration(tmp_path, "unga/nope.csv"), baseline.actor_ids)
    with pytest.raises(SimInputError, match="does not exist") as err:
        decl.data_path()
    assert "measurement/s.toml: data.file" in str(err.value)


def test_the_data_header_error_never_quotes_the_file(tmp_path):
    path = tmp_path / "creds.csv"
    path.write_text(f"{SECRET},user=zq9\n1,2\n")
    with pytest.raises(SimInputError, match="unexpected header") as err:
        unga.load(2019, path)
    assert SECRET not in str(err.value) and "zq9" not in str(err.value)


@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "large"])
def test_data_files_are_read_by_the_bounded_reader(tmp_path, kind):
    path = tmp_path / "d.csv"
    if kind == "fifo":
        os.mkfifo(path)  # would hang an ordinary open
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as fh:
            fh.truncate(300 << 20)
    with pytest.raises(SimInputError, match="not a regular file|directory|too large"):
        unga.load(2019, path)


# --------------------------------------------------------------------------------------------
# Forecast records and the ledger


def forged_record(tmp_path, **fields):
    folder = tmp_path / "forecasts" / "records"
    folder.mkdir(parents=True)
    record = {
        "format": forecast.FORMAT,
        "questions_file": "../questions/q.toml",
        "questions_sha256": "0" * 64,
        "answers": [],
        **fields,
    }
    path = folder / "x.json"
    path.write_text(json.dumps(record))
    return path, tmp_path / "forecasts" / "LEDGER.md"


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"questions_file": "../../../../../../etc/passwd"}, "questions_file: points outside"),
        ({"questions_file": "/etc/passwd"}, "questions_file: an absolute path"),
        ({"questions_file": 7}, "questions_file: missing or of the wrong type"),
        ({"answers": None}, "answers: missing or of the wrong type"),
        ({"posterior": "/etc"}, "posterior: an absolute path"),
    ],
)
def test_verify_opens_only_what_the_project_holds(tmp_path, fields, words):
    record, book = forged_record(tmp_path, **fields)
    questions = tmp_path / "forecasts" / "questions"
    questions.mkdir()
    (questions / "q.toml").write_text("")  # present, so the posterior is reached
    with pytest.raises(SimInputError, match=words):
        forecast.verify(record, book)


def test_a_record_with_a_missing_key_is_one_line(tmp_path, capsys):
    record, book = forged_record(tmp_path)
    data = json.loads(record.read_text())
    del data["questions_sha256"]
    record.write_text(json.dumps(data))
    assert main(["forecast", "verify", str(record), "--ledger", str(book)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "questions_sha256" in err


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_ledger_or_record_that_is_no_regular_file_is_refused_at_once(tmp_path, capsys, kind):
    odd = tmp_path / "odd.md"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "device":
        odd.symlink_to("/dev/zero")
    else:
        odd.mkdir()
    shipped = ROOT / "forecasts" / "records" / "outlook_2026_2030.json"
    assert main(["forecast", "verify", str(shipped), "--ledger", str(odd)]) == 2
    assert main(["forecast", "verify", str(odd)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(str(odd) in line for line in err)
    assert not any("not found" in line or "no such" in line for line in err)
    with pytest.raises(SimInputError):
        ledger.rows(odd)


def test_the_shipped_records_name_files_inside_the_project():
    book = ROOT / "forecasts" / "LEDGER.md"
    for row in ledger.rows(book):
        path = book.parent / row.record
        record = forecast.read_record(path)
        roots = (ROOT,)
        files.inside(record["questions_file"], path.parent, roots, file="r", field="q")
        if record.get("posterior"):
            files.inside(record["posterior"], path.parent, roots, file="r", field="p")


# --------------------------------------------------------------------------------------------
# Calibration folders


@pytest.fixture
def calibration(tmp_path):
    out = tmp_path / "cal"
    shutil.copytree(SHIPPED_CALIBRATION, out)
    return out


def _meta(folder, **changes):
    path = folder / "metadata.json"
    meta = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"scenario_name": None}, "scenario_name: a calibration must name"),
        ({"until": "2019"}, "until: expected a year"),
        ({"parameters_calibrated": "x"}, "parameters_calibrated: expected a list"),
    ],
)
def test_calibration_metadata_is_checked(calibration, changes, words):
    _meta(calibration, **changes)
    with pytest.raises(SimInputError, match=words):
        posterior.load(calibration)


def test_a_huge_metadata_file_is_refused_unread(calibration):
    with open(calibration / "metadata.json", "ab") as fh:
        fh.truncate(60 << 20)
    with pytest.raises(SimInputError, match="too large"):
        posterior.load(calibration)


def test_posterior_values_are_checked_against_the_scenario_ranges(calibration, baseline):
    post = posterior.load(calibration)
    posterior.check_scenario(post, baseline)  # the shipped one is within range
    table = pd.read_parquet(calibration / posterior.FILE)
    name = "events.unsc_crisis.hazard"  # a probability: 7.0 is no hazard
    assert name in post.names
    table.loc[0, name] = 7.0
    table.to_parquet(calibration / posterior.FILE)
    forged = posterior.load(calibration)
    with pytest.raises(SimInputError, match="outside the scenario's range") as err:
        posterior.check_scenario(forged, baseline)
    assert name in str(err.value) and np.isclose(err.value.found, 7.0)
