"""Tests of the `sim game` subcommand and the game section of `sim report`."""

from __future__ import annotations

import json

import pytest

from sim.commands import cli
from sim.scenario import BASELINE


def run(capsys, *argv):
    code = cli.main(["game", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--date", "2016-06", "--game", "chicken"], "--game"),
        (["--date", "2014-01"], "outside the scenario"),
        (["--date", "2030-01"], "outside the scenario"),
        (["--date", "sometime"], "not a month"),
        (["--date", "2016-06", "--threshold", "offer=3:1"], "LOW must be below HIGH"),
        (["--date", "2016-06", "--threshold", "no.such.parameter=0:1"], "unknown parameter"),
        (["--date", "2016-06", "--discount", "1.5"], "--discount"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, words):
    code, out, err = run(capsys, BASELINE, *argv, "-n", "2", "--out", str(tmp_path / "g"))
    assert code == 2
    assert err.count("\n") == 1 and words in err
    assert "Traceback" not in err


def test_game_writes_efg_figure_and_json_and_a_report_section(capsys, tmp_path):
    gbt = pytest.importorskip("pygambit")
    out = tmp_path / "g"
    code, text, err = run(
        capsys, BASELINE, "--date", "2016-06", "-n", "4", "--horizon", "3", "--out", str(out)
    )
    assert code == 0, err
    assert "Subgame-perfect equilibrium" in text and "Simulation beside equilibrium" in text
    for name in ("game.efg", "game.json", "tree.png", "tree.svg", "metadata.json"):
        assert (out / name).exists(), name
    game = gbt.read_efg(str(out / "game.efg"))
    assert [p.label for p in game.players] == ["United States", "Russia", "Iran"]
    rec = json.loads((out / "game.json").read_text())
    assert rec["date"] == "2016-06" and rec["horizon"] == 3 and rec["lambda"] == pytest.approx(10)
    assert len(rec["outcomes"]) == len(game.outcomes)
    # a second write needs --force
    code, _, err = run(capsys, BASELINE, "--date", "2016-06", "-n", "4", "--out", str(out))
    assert code == 2 and "--force" in err

    html = tmp_path / "r.html"
    assert cli.main(["report", str(out), "--out", str(html)]) == 0
    page = html.read_text()
    assert "Subgame-perfect path" in page and "data:image/png;base64" in page


def test_grid_is_a_sweep_shaped_directory_that_levers_reads(capsys, tmp_path):
    pytest.importorskip("pygambit")
    from sim import analysis

    out = tmp_path / "g"
    argv = ["--date", "2016-06", "-n", "4", "--horizon", "3", "--out", str(out)]
    argv += ["--grid", "offer=0:8:3", "--grid", "actors.russia.salience.ukraine=0.4:1:2"]
    code, text, err = run(capsys, BASELINE, *argv)
    assert code == 0, err
    assert "Grid:" in text
    res = analysis.load(out / "grid")
    assert res.kind == "sweep" and len(res.runs) == 6
    assert set(analysis.parameter_names(res.meta)) == {"offer", "actors.russia.salience.ukraine"}
    assert res.runs["equilibrium"].dtype == bool
    assert res.runs["qre_probability"].between(0, 1).all()
    # the grid's table is what sim levers analyses
    from sim.analysis import levers as lv

    case = lv.case(res.runs, "equilibrium")
    assert case.boolean
