"""`sim evidence`: terminal table, Markdown output, and docs/evidence.md kept in step."""

from __future__ import annotations

from sim.commands.cli import main
from sim.commands.evidence import render_markdown
from sim.scenario.evidence import load_evidence, scenario_evidence
from tests.conftest import BASELINE, ROOT

DOC = ROOT / "docs" / "evidence.md"


def test_text_table_groups_and_claim_texts(capsys):
    assert main(["evidence", str(BASELINE)]) == 0
    out = capsys.readouterr().out
    heads = [out.index(f"\n{h}\n") for h in ("Iran", "Russia", "Issues", "Alignment", "Trust",
                                             "Dynamics", "Events", "Outcomes")]  # fmt: skip
    assert heads == sorted(heads)
    assert "salience.ukraine" in out
    assert "C11 (A non-strategic partnership): Iran may fear a Russian betrayal" in out


def test_markdown_to_file(tmp_path, capsys):
    out = tmp_path / "ev.md"
    assert main(["evidence", str(BASELINE), "--format", "markdown", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Evidence: ")
    assert "| `salience.ukraine` | 0.8 | [0.6, 1] | C11 |" in text
    assert "wrote" in capsys.readouterr().out


def test_docs_evidence_md_is_generated_and_current(baseline):
    entries = scenario_evidence(BASELINE, baseline)
    fresh = render_markdown(baseline, entries, "scenarios/evidence/baseline.toml")
    assert DOC.read_text() == fresh, "regenerate: sim evidence --format markdown"


def test_variant_without_table_warns_not_fails(tmp_path, capsys):
    sc = tmp_path / "variant.toml"
    sc.write_text(BASELINE.read_text().replace("rate = 0.1 ", "rate = 0.3 "))
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "baseline.toml").write_text(
        (ROOT / "scenarios" / "evidence" / "baseline.toml").read_text()
    )
    assert main(["evidence", str(sc)]) == 0
    captured = capsys.readouterr()
    assert "dynamics.rate: value outside [low, high]" in captured.err
    assert "Baseline value 0.1" in captured.out


def test_own_table_mismatch_is_an_input_error(tmp_path, capsys):
    sc = tmp_path / "own.toml"
    sc.write_text(BASELINE.read_text())
    (tmp_path / "evidence").mkdir()
    table = ROOT / "scenarios" / "evidence" / "baseline.toml"
    (tmp_path / "evidence" / "baseline.toml").write_text(table.read_text())
    entries = load_evidence(table)
    (tmp_path / "evidence" / "own.toml").write_text(
        f'[[entry]]\nname = "{entries[0].name}"\nvalue = 999\nlow = 0\nhigh = 1000\n'
        'claims = ["assumption"]\nreason = "Wrong."\n'
    )
    assert main(["evidence", str(sc)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "own.toml" in err and "value differs" in err


def test_missing_scenario_is_an_input_error(capsys):
    assert main(["evidence", "no/such.toml"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_out_implies_markdown(tmp_path, capsys):
    out = tmp_path / "ev.md"
    assert main(["evidence", str(BASELINE), "--out", str(out)]) == 0
    assert out.read_text().startswith("# Evidence: ")
    assert capsys.readouterr().out.startswith(f"wrote {out} (")


def test_text_format_with_out_is_refused_not_ignored(tmp_path, capsys):
    out = tmp_path / "ev.txt"
    assert main(["evidence", str(BASELINE), "--format", "text", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("sim evidence: error: --out: writes Markdown only")
    assert not out.exists()
