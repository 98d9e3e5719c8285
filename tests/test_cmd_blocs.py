"""Tests of the `sim blocs` subcommand."""

from __future__ import annotations

import pytest

from sim.commands import cli

# The four-actor two-cleavage case of tests/test_landscape.py (worked by hand there): optimum
# {A,B} | {C,D} at -2.4 with a basin of 7 of 8; the other minimum {A,D} | {B,C} at -1.6, basin 1.
CSV = """\
actor,size,A,B,C,D
A,1,,0.2,-1,-0.2
B,1,0.2,,-0.2,-1
C,1,-1,-0.2,,0.2
D,1,-0.2,-1,0.2,
"""

TOML = """\
[actors]
A = 1
B = 1
C = 1
D = 1

[propensity]
A = { B = 0.2, C = -1, D = -0.2 }
B = { C = -0.2, D = -1 }
C.D = 0.2
"""

SCENARIO = """\
[scenario]
name = "tiny"

[actors.a]
capability = 0.5

[actors.b]
capability = 0.5
"""


@pytest.fixture
def table(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def run(capsys, *argv):
    code = cli.main(["blocs", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, text", [("t.csv", CSV), ("t.toml", TOML)])
def test_blocs_table(capsys, table, name, text):
    code, out, err = run(capsys, table(name, text))
    assert code == 0 and err == ""
    assert "4 actors: 8 configurations, 2 stable" in out
    assert "Optimum: energy -2.4, basin 7 of 8 (88%)" in out
    assert "bloc A: A, B" in out and "bloc B: C, D" in out
    (row,) = [line for line in out.splitlines() if "A, D | B, C" in line]
    assert row.split()[:3] == ["-1.6", "1", "12.5%"]


def test_blocs_normalise_and_figure(capsys, table, tmp_path):
    figure = tmp_path / "landscape.png"
    code, out, _ = run(capsys, table("t.csv", CSV), "--normalise", "--figure", str(figure))
    assert code == 0
    assert "normalised to sum 1" in out and "Optimum: energy -0.15," in out  # -2.4 / 4**2
    assert figure.stat().st_size > 0 and f"Figure written to {figure}" in out


def test_blocs_single_minimum(capsys, table):
    code, out, _ = run(capsys, table("t.csv", "actor,size,x,y\nx,1,,1\ny,2,1,\n"))
    assert code == 0 and "No other stable configuration" in out and "bloc B: (empty)" in out


def assert_one_line_error(code, out, err, *fragments):
    assert code == 2 and out == ""
    assert err.startswith("sim blocs: error: ") and err.count("\n") == 1
    for fragment in fragments:
        assert fragment in err


def test_blocs_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, str(tmp_path / "nope.csv"))
    assert_one_line_error(code, out, err, "nope.csv", "does not exist")


def test_blocs_bad_table(capsys, table):
    code, out, err = run(capsys, table("t.csv", CSV.replace("A,1,,0.2", "A,1,,0.3")))
    assert_one_line_error(code, out, err, "row B, column A", "not symmetric")
    code, out, err = run(capsys, table("t.json", CSV))
    assert_one_line_error(code, out, err, "unknown table type")


def test_blocs_bad_figure_path(capsys, table, tmp_path):
    path = str(tmp_path / "no" / "such" / "dir.png")
    code, _, err = cli.main(["blocs", table("t.csv", CSV), "--figure", path]), *capsys.readouterr()
    assert code == 2 and "--figure" in err and err.count("\n") == 1


def test_blocs_on_the_baseline_scenario(capsys):
    from tests.conftest import BASELINE

    code = cli.main(["blocs", str(BASELINE)])
    out = capsys.readouterr().out
    assert code == 0
    assert "iran" in out and "united_states" in out
    code = cli.main(["blocs", str(BASELINE), "--month", "24", "--seed", "3"])
    assert code == 0


def test_blocs_month_only_for_scenarios(capsys, table):
    code, out, err = run(capsys, table("t.csv", CSV), "--month", "3")
    assert_one_line_error(code, out, err, "--month", "only to scenario input")
