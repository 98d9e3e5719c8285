import base64
import re

from sim import analysis, report
from sim.commands.cli import main
from tests.test_figures import (
    BASELINE,
    PNG_MAGIC,
    dirs,  # noqa: F401  (fixture)
)


def test_report_holds_every_figure_and_headline(dirs, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "report.html"
    paths = [str(dirs / n) for n in ("base", "offer", "sobol")]
    assert main(["report", *paths, "--out", str(out)]) == 0
    text = out.read_text()
    results = [analysis.load(p) for p in paths]
    expected = [p.name for p in report.panels(results)]
    for name in expected:
        assert f"id='{name}'" in text
    images = re.findall(r"src='data:image/png;base64,([^']+)'", text)
    assert len(images) == len(expected)
    assert all(base64.b64decode(i)[:8] == PNG_MAGIC for i in images)
    assert "http://" not in text and "https://" not in text  # opens offline
    table = report.headline_table(results)
    for row in table.itertuples():
        assert f"{row.p:.1%}" in text
        assert f"{row.low:.1%} – {row.high:.1%}" in text
    assert "Wilson 95% interval" in text
    assert "Headline probabilities" in text
    assert str(len(results[0].runs)) in text


def test_report_for_one_run_has_no_sweep_sections(dirs, tmp_path):  # noqa: F811
    out = report.write([dirs / "base"], tmp_path / "one.html", title="Baseline only")
    text = out.read_text()
    assert "<h1>Baseline only</h1>" in text
    assert "Scenario discovery" not in text and "global sensitivity" not in text
    assert "Kaplan-Meier" in text
    assert BASELINE.stem in text


def test_report_and_plot_never_overwrite_without_force(dirs, tmp_path, capsys):  # noqa: F811
    base = str(dirs / "base")
    out = tmp_path / "report.html"
    out.write_text("an earlier report")
    assert main(["report", base, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sim report: error: ") and "--force" in err[0]
    assert out.read_text() == "an earlier report"
    assert main(["report", base, "--out", str(out), "--force"]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    (tmp_path / "folder").mkdir()
    assert main(["report", base, "--out", str(tmp_path / "folder"), "--force"]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err or "not a file" in err

    figs = tmp_path / "figs"
    plot = ["plot", base, "--kind", "survival", "--out", str(figs)]
    assert main(plot) == 0
    before = {p.name: p.read_bytes() for p in figs.iterdir()}
    capsys.readouterr()
    assert main(plot) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sim plot: error: ") and "--force" in err[0]
    assert {p.name: p.read_bytes() for p in figs.iterdir()} == before
    assert main([*plot, "--force"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
