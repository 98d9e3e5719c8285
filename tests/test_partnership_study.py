"""The shipped study that answers "what would it take for a partnership": its ranges are the
evidence ranges, and `sim levers` finds partnership cases and a region where they happen."""

from sim.commands.cli import main
from sim.sweeps.experiment import load_experiment

from .conftest import ROOT

STUDY = ROOT / "experiments" / "partnership_sweep.toml"


def test_every_range_is_an_evidence_range():
    exp = load_experiment(STUDY)
    assert exp.parameters and all(p.source == "evidence" for p in exp.parameters)


def test_levers_answer_what_it_would_take_for_a_partnership(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", str(STUDY), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["levers", str(out), "--outcome", "partnership"]) == 0
    text = capsys.readouterr().out
    case = next(line for line in text.splitlines() if line.startswith("Case:"))
    found = int(case.split("(")[1].split(" of ")[0])
    assert found >= 20, case  # measured: 84 of 2,400 runs
    assert "Region (PRIM" in text and "alignment.iran.russia" in text
