"""The UN General Assembly data: shipped, checked, and cut off at a year."""

import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import SimInputError
from sim.validation.data import unga

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "unga" / "ideal_points_2000_2019.csv"


def test_shipped_data_has_22_states_2000_to_2019_and_its_citation():
    data = unga.load(2019)
    assert data.table.iso3c.nunique() == 22
    assert data.years == tuple(range(2000, 2020))
    assert len(data.table) == 436  # a few states miss a session
    assert data.sha256 == unga.file_sha256(SHIPPED)
    readme = (ROOT / "data" / "unga" / "README.md").read_text()
    assert "doi:10.7910/DVN/LEJUQZ" in readme and "Bailey, Strezhnev and Voeten" in readme


def test_no_session_from_2020_on_is_in_the_repository():
    years = {int(line.split(",")[3]) for line in SHIPPED.read_text().splitlines()[1:]}
    assert max(years) <= 2019


def test_the_cutoff_drops_later_sessions_before_they_are_parsed(tmp_path):
    lines = SHIPPED.read_text().splitlines()
    # A later session whose other fields are garbage: with the cutoff it is never parsed.
    poisoned = tmp_path / "poisoned.csv"
    poisoned.write_text("\n".join([*lines, "IRN,Iran,75,2020,x,NOT_A_NUMBER,,,,,,,"]) + "\n")
    data = unga.load(2019, poisoned)
    assert data.years[-1] == 2019
    assert data.table.equals(unga.load(2019, SHIPPED).table)
    with pytest.raises(SimInputError, match="ideal_point|votes"):
        unga.load(2020, poisoned)


def test_cutoff_keeps_only_sessions_up_to_until():
    data = unga.load(2016)
    assert data.years[-1] == 2016
    assert (data.table.year <= 2016).all()


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda ls: ls[:-1] + [ls[-1][: len(ls[-1]) // 3]], "truncated"),
        (lambda ls: ["iso3c,country,year"] + ls[1:], "header"),
        (lambda ls: ls + [ls[-1]], "twice"),
        (lambda ls: ls[:5] + [ls[5].replace(",2004,", ",2005,")] + ls[6:], "session and year"),
    ],
    ids=["truncated", "header", "duplicate", "session-year"],
)
def test_bad_files_raise_one_line_errors(tmp_path, edit, match):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(edit(SHIPPED.read_text().splitlines())) + "\n")
    with pytest.raises(SimInputError, match=match) as info:
        unga.load(2019, path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_calibrate_exits_2_on_a_truncated_data_file(tmp_path):
    for sub in ("", "evidence", "measurement"):
        (tmp_path / sub).mkdir(exist_ok=True)
    (tmp_path / "baseline.toml").write_text((ROOT / "scenarios" / "baseline.toml").read_text())
    (tmp_path / "evidence" / "baseline.toml").write_text(
        (ROOT / "scenarios" / "evidence" / "baseline.toml").read_text()
    )
    bad = tmp_path / "truncated.csv"
    bad.write_text(SHIPPED.read_text()[:5000])
    decl = (ROOT / "scenarios" / "measurement" / "baseline.toml").read_text()
    decl = decl.replace('file = "unga/ideal_points_2000_2019.csv"', f'file = "{bad}"')
    (tmp_path / "measurement" / "baseline.toml").write_text(decl)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "calibrate",
            str(tmp_path / "baseline.toml"),
            "--until",
            "2019",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "truncated" in done.stderr
    assert not (tmp_path / "out").exists()
