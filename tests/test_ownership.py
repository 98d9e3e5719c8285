"""Nothing outside what it owns: one class of data loss per test, each through the command a
user types (real files, links and folders), plus the one helper each class goes through.
"""

import json
import os

import pytest

from sim import results
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.scenario import load
from sim.scenario.names import identifier, is_identifier

from .conftest import BASELINE

RUN = ["run", str(BASELINE), "-n", "3", "--months", "3", "--no-figures"]


def cmd(args, capsys):
    code = main([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    return code, err


def tree(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --------------------------------------------------------------------------------------------
# Plain identifiers


@pytest.mark.parametrize(
    "value, ok",
    [("baseline", True), ("_x9", True), ("a" * 64, True), ("a" * 65, False), ("9a", False),
     ("a-b", False), ("a.b", False), ("../x", False), ("a|b", False), ("a\nb", False),
     ("a\0b", False), ("naïve", False), ("", False), (None, False)],
)  # fmt: skip
def test_the_identifier_rule(value, ok):
    assert is_identifier(value) is ok
    if not ok:
        with pytest.raises(SimInputError, match="f.toml: x.y: not a plain identifier"):
            identifier(value, "f.toml", "x.y")


@pytest.mark.parametrize("oid", ["../../../escaped", "/tmp/abs", "x; DROP TABLE runs"])
def test_an_outcome_id_that_is_not_plain_is_refused_where_the_scenario_is_loaded(tmp_path, oid):
    sc = tmp_path / "s.toml"
    sc.write_text(BASELINE.read_text().replace("[outcomes.betrayal]", f'[outcomes."{oid}"]'))
    with pytest.raises(SimInputError) as err:
        load(sc)
    assert f"{sc}: outcomes: not a plain identifier (found {oid!r})" in str(err.value)


# --------------------------------------------------------------------------------------------
# Ownership: the manifest decides what --force may replace


def test_a_results_directory_lists_what_the_tool_wrote(tmp_path, capsys):
    out = tmp_path / "r"
    assert cmd([*RUN, "--out", out], capsys)[0] == 0
    manifest = json.loads((out / results.MANIFEST).read_text())
    assert manifest["files"] == ["metadata.json", "outcomes.json", "parameter_spread.json",
                                 "runs.parquet", "trajectories.parquet"]  # fmt: skip
    assert (out / results.MARKER).is_file() and results.foreign(out) is None


def test_force_names_a_file_the_user_added_and_deletes_nothing(tmp_path, capsys):
    out = tmp_path / "r"
    assert cmd([*RUN, "--out", out], capsys)[0] == 0
    (out / "analysis.ipynb").write_text("{}")
    before = tree(out)
    code, err = cmd([*RUN, "--out", out, "--force"], capsys)
    assert code == 2 and f"{out / 'analysis.ipynb'}: was not written by sim" in err
    assert tree(out) == before


def test_a_forged_metadata_file_does_not_make_a_folder_the_tools(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    (mine / "metadata.json").write_text(json.dumps({"format": results.FORMAT}))
    for args in (RUN, ["backtest", BASELINE.parent.parent / "backtests/history_2015_2025/events.toml",
                       "-n", "2"]):  # fmt: skip
        code, err = cmd([*args, "--out", mine, "--force"], capsys)
        assert code == 2 and "not a results directory written by sim" in err, err
    assert tree(mine) == ["metadata.json", "thesis.txt"]


def test_a_symlinked_lock_file_is_never_written_through(tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / ".r.lock")
    code, err = cmd([*RUN, "--out", tmp_path / "r"], capsys)
    assert code == 2 and "lock file beside this output is a link" in err
    assert victim.read_text() == "precious" and not (tmp_path / "r").exists()


def test_force_on_a_link_or_the_current_folder_is_one_line(tmp_path, capsys, monkeypatch):
    out = tmp_path / "r"
    assert cmd([*RUN, "--out", out], capsys)[0] == 0
    os.symlink(out, tmp_path / "link")
    code, err = cmd([*RUN, "--out", tmp_path / "link", "--force"], capsys)
    assert code == 2 and "is a symbolic link" in err and len(err.splitlines()) == 1
    monkeypatch.chdir(out)
    for where in (".", ".."):
        code, err = cmd([*RUN, "--out", where, "--force"], capsys)
        assert code == 2 and "is the current folder" in err and len(err.splitlines()) == 1
    assert (out / "runs.parquet").exists() and (tmp_path / "link").is_symlink()


def test_a_colliding_output_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    out = tmp_path / "b"
    out.mkdir()
    (out / "x").write_text("x")
    from sim.validation.backtest import ensemble

    def never(*a, **k):
        raise AssertionError("the ensemble ran before the output was checked")

    monkeypatch.setattr(ensemble, "build", never)
    events = BASELINE.parent.parent / "backtests/history_2015_2025/events.toml"
    code, err = cmd(["backtest", events, "-n", "2", "--out", out], capsys)
    assert code == 2 and "already exists" in err


# --------------------------------------------------------------------------------------------
# One overwrite rule for file outputs


def test_file_outputs_refuse_an_existing_file_without_force(tmp_path, capsys):
    csv = tmp_path / "d.csv"
    csv.write_text("mine")
    change = ["--set", "actors.united_states.actions.engage_iran.bias=1"]
    args = ["whatif", BASELINE, "--at", "3", "-n", "2", "--months", "4", *change, "--csv", csv]
    code, err = cmd(args, capsys)
    assert code == 2 and "already exists" in err and "--csv" in err
    assert csv.read_text() == "mine"
    fig = tmp_path / "w"
    (tmp_path / "w.svg").write_text("mine")
    code, err = cmd([*args[:-2], "--figure", fig], capsys)
    assert code == 2 and "w.svg: already exists" in err
    assert cmd([*args, "--force"], capsys)[0] == 0 and csv.read_text() != "mine"


def test_figures_sim_plot_adds_to_a_results_folder_join_its_manifest(tmp_path, capsys):
    out = tmp_path / "r"
    assert cmd(["run", BASELINE, "-n", "20", "--months", "6", "--out", out], capsys)[0] == 0
    assert cmd(["plot", out, "--kind", "fan"], capsys)[0] == 0
    assert results.foreign(out) is None
    assert cmd([*RUN, "--out", out, "--force"], capsys)[0] == 0


def test_a_pattern_the_tool_does_not_know_admits_nothing(tmp_path, capsys):
    out = tmp_path / "r"
    assert cmd([*RUN, "--out", out], capsys)[0] == 0
    manifest = json.loads((out / results.MANIFEST).read_text())
    (out / results.MANIFEST).write_text(json.dumps({**manifest, "patterns": [".*"]}))
    (out / "thesis.txt").write_text("mine")
    code, err = cmd([*RUN, "--out", out, "--force"], capsys)
    assert code == 2 and "thesis.txt: was not written by sim" in err
