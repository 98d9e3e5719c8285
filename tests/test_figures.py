import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pytest

from sim import analysis, report
from sim.commands.cli import main
from sim.report import figures
from tests.test_analysis import make_sweep

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    common = ["-n", "20", "--months", "24", "--seed", "3", "--no-figures"]
    assert main(["run", str(BASELINE), *common, "--out", str(root / "base")]) == 0
    offer = ["--set", "events.western_offer.hazard=0.2"]
    assert main(["run", str(BASELINE), *common, *offer, "--out", str(root / "offer")]) == 0
    make_sweep(root / "sobol", "sobol", replicates=3)
    make_sweep(root / "morris", "morris", replicates=2)
    make_sweep(root / "grid", "grid", replicates=2)
    return root


def check_images(paths):
    assert paths
    for path in paths:
        assert path.exists() and path.stat().st_size > 1000
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_MAGIC
            assert matplotlib.image.imread(path).ndim == 3
        else:
            assert ET.parse(path).getroot().tag.endswith("svg")


def test_every_kind_renders(dirs, tmp_path):
    results = [analysis.load(dirs / n) for n in ("base", "offer", "sobol", "morris", "grid")]
    panels = list(report.panels(results))
    kinds = {p.kind for p in panels if p.ax is not None}
    assert kinds == set(report.KINDS)
    names = {p.name for p in panels}
    assert "morris_sensitivity_betrayal" in names and "sobol_sensitivity_betrayal" in names
    assert any(n.endswith("_levers_betrayal_below_0-5_run_tradeoff") for n in names)
    assert "response_betrayal" in names
    paths, saved = [], set()
    for p in panels:
        if p.ax is None:  # a note in place of an empty chart says why
            assert "class='note'" in p.note and p.title
            continue
        assert p.ax.get_title() and p.ax.get_xlabel() and p.ax.get_ylabel()
        assert p.ax.get_legend() is not None
        assert "runs" in p.caption and "seed" in p.caption
        assert "." not in p.name
        if p.kind not in saved:  # one file pair per kind keeps the test fast
            saved.add(p.kind)
            paths += figures.save(p.ax, tmp_path / p.name, p.caption)
    check_images(paths)


def test_fan_overlays_scenarios(dirs):
    results = [analysis.load(dirs / "base"), analysis.load(dirs / "offer")]
    fans = [p for p in report.panels(results, ["fan"])]
    assert len(fans) == 6  # one per pair of the four actors
    labels = [t.get_text() for t in fans[0].ax.get_legend().get_texts()]
    assert any("base" in t for t in labels) and any("offer" in t for t in labels)
    assert fans[0].ax.get_title() == "Iran-Russia alignment over time"


def test_plot_command_writes_png_and_svg(dirs, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", str(dirs / "offer"), "--kind", "survival", "--out", str(out)]) == 0
    check_images(sorted(out.iterdir()))
    assert (out / "survival_betrayal.png").exists()
    assert main(["plot", str(dirs / "sobol"), "--kind", "heatmap", "--out", str(out)]) == 0
    assert list(out.glob("*_heatmap_betrayal_*.svg"))


def test_degenerate_outcomes_get_a_note_not_an_empty_chart(dirs):
    results = [analysis.load(dirs / "base")]
    panels = {p.name: p for p in report.panels(results, ["survival", "distributions"])}
    partnership = panels["survival_partnership"]
    assert partnership.ax is None and "No partnership in any of the 20 runs" in partnership.note
    assert (
        panels["survival_betrayal"].ax is not None
        or "No betrayal" in panels["survival_betrayal"].note
    )


def test_plot_command_rejects_inapplicable_kind(dirs, tmp_path, capsys):
    assert main(["plot", str(dirs / "grid"), "--kind", "fan", "--out", str(tmp_path)]) == 2
    assert "no figure" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing")]) == 2
