import base64
import html
import re

import pytest

from sim import analysis, report
from sim.analysis import findings
from sim.commands.cli import main
from tests.test_figures import (
    BASELINE,
    PNG_MAGIC,
    dirs,  # noqa: F401  (fixture)
)


def _text(html_text):
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"src='[^']+'", "", html_text)))


@pytest.fixture(scope="module")
def full(dirs, tmp_path_factory):  # noqa: F811
    """One report of two runs and a sweep, written by the CLI (it takes a while to draw)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    paths = [str(dirs / n) for n in ("base", "offer", "sobol")]
    assert main(["report", *paths, "--out", str(out)]) == 0
    return paths, out.read_text()


def test_report_holds_every_figure_and_headline(full):
    paths, text = full
    results = [analysis.load(p) for p in paths]
    panels = list(report.panels(results))
    for p in panels:
        assert f"id='{p.name}'" in text
    images = re.findall(r"src='data:image/png;base64,([^']+)'", text)
    assert len(images) == sum(p.ax is not None for p in panels)
    assert all(base64.b64decode(i)[:8] == PNG_MAGIC for i in images)
    assert "http://" not in text and "https://" not in text  # opens offline
    found = findings.gather(results)
    table = report.headline_table(found)
    assert list(table.columns) == [f.label for f in found] + ["what it means"]
    for f in found:
        p = findings.row(f.summary, "betrayal", "p")
        assert f"{p.value:.1%} [{p.low95:.1%}, {p.high95:.1%}]" in text
    assert "Headline numbers" in text and "Wilson" in text
    assert str(len(results[0].runs)) in text


def test_report_opens_with_a_narrative_and_contents(dirs, full):  # noqa: F811
    _, text = full
    first = text.index("<section class='summary'")
    assert first < text.index("<nav>") < text.index("<section id='headline'")
    summary = _text(text[first : text.index("<nav>")])
    for heading in ("What was run", "Headline answers", "What drives them", "What would change"):
        assert heading in summary
    base = analysis.load(dirs / "base")
    f = findings.gather([base])[0]
    p = findings.row(f.summary, "betrayal", "p")
    assert f"{100 * p.value:.1f}%" in summary or f"{100 * p.value:.0f}%" in summary
    assert "never in the 20 runs" in summary  # no partnership, said in words
    assert "feature scores" in summary  # what drives them, from the sweep
    for key in re.findall(r"<li><a href='#(\w+)'>", text):
        assert f"id='{key}'" in text  # every entry of the contents has its section


def test_each_caption_once(dirs, tmp_path):  # noqa: F811
    text = report.write([dirs / "base", dirs / "offer"], tmp_path / "r.html").read_text()
    fans = re.search(r"<section id='fan'>(.*?)</section>", text, re.S).group(1)
    caption = report.caption(
        [analysis.load(dirs / "base"), analysis.load(dirs / "offer")], ["base", "offer"]
    )
    assert fans.count(caption) == 1  # shared by the section's figures: written once
    assert "<figcaption>" not in fans


def test_report_for_one_run_has_no_sweep_sections(dirs, tmp_path):  # noqa: F811
    out = report.write([dirs / "base"], tmp_path / "one.html", title="Baseline only")
    text = out.read_text()
    assert "<h1>Baseline only</h1>" in text
    assert "levers" not in text.split("<nav>")[1].split("</nav>")[0]
    assert "global sensitivity" not in text
    assert "Kaplan-Meier" in text
    assert "response after" in text
    assert "No sweep was included" in text
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
    plot = ["plot", base, "--kind", "fan", "--out", str(figs)]
    assert main(plot) == 0
    before = {p.name: p.read_bytes() for p in figs.iterdir()}
    capsys.readouterr()
    assert main(plot) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sim plot: error: ") and "--force" in err[0]
    assert {p.name: p.read_bytes() for p in figs.iterdir()} == before
    assert main([*plot, "--force"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_report_explains_sobol_indices_above_one(dirs, tmp_path, monkeypatch):  # noqa: F811
    from sim.analysis import statistics

    real = statistics.sobol

    def inflated(y, meta, **kw):
        table = real(y, meta, **kw)
        table.iloc[0, table.columns.get_loc("ST")] = 1.4
        return table

    monkeypatch.setattr(statistics, "sobol", inflated)
    text = report.render([analysis.load(dirs / "sobol")], kinds=["sensitivity"])
    assert "cannot be shares of variance" in text and "(ST 1.40)" in text


def test_lever_cases_and_density_from_the_cli(dirs, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "l.html"
    args = ["report", str(dirs / "sobol"), "--out", str(out)]
    assert main([*args, "--lever", "alignment_final>0.2:point", "--density", "0.7"]) == 0
    text = _text(out.read_text())
    assert "mean alignment_final per point > 0.2" in text and "target 70%" in text
    assert main([*args, "--force", "--lever", "betrayal=>"]) == 2
    assert "--lever" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("betrayal", "betrayal is true"),
        ("betrayal<0.5", "betrayal is false"),
        ("alignment_final > -0.1", "alignment_final > -0.1"),
        ("betrayal>0.3:point", "P(betrayal) per point > 0.3"),
    ],
)
def test_case_definitions(dirs, text, expected):  # noqa: F811
    runs = analysis.load(dirs / "sobol").runs
    assert findings.parse_case(text, runs).describe() == expected


def test_a_sweep_report_without_ema_workbench_says_so(dirs, monkeypatch):  # noqa: F811
    from sim.analysis import levers
    from sim.errors import SimInputError

    def missing():
        raise SimInputError("not installed", field="ema_workbench")

    monkeypatch.setattr(levers, "_ema", missing)
    text = report.render([analysis.load(dirs / "sobol")], kinds=["levers"])
    assert "No lever analysis" in text and "sim[analysis]" in text


def test_report_headline_carries_the_spread_over_parameter_settings(dirs, full):  # noqa: F811
    _, text = full
    summary = _text(text[text.index("<section class='summary'") : text.index("<nav>")])
    assert "over plausible parameters (middle 80% of 40 settings" in summary
    assert "seed noise" in summary
    headline = _text(text[text.index("<section id='headline'") :])
    assert "; parameters: " in headline
