"""Figures of a many-scenario report: the baseline stays visible, legends say what is hidden,
and labels never cover values."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import analysis  # noqa: E402
from sim.report import figures  # noqa: E402


def test_fan_overlay_draws_the_reference_median_on_top_and_keeps_the_legend_order():
    gen = np.random.default_rng(0)
    series = {f"s{k}": gen.normal(0.1 * k, 0.2, (30, 13)) for k in range(6)}
    ax = figures.fan_overlay(series)
    lines = [line for line in ax.get_lines() if line.get_label().startswith("s")]
    first = next(line for line in lines if line.get_label().startswith("s0 "))
    others = [line.get_zorder() for line in lines if line is not first]
    assert first.get_zorder() > max(others)
    assert first.get_zorder() > max(c.get_zorder() for c in ax.collections)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t.split(" ")[0] for t in legend] == list(series)
    assert "50% band)" in legend[0]  # six scenarios: no 90% bands piling up


def test_survival_legend_says_which_curves_are_flat_or_hidden():
    never = pd.Series([np.nan] * 20)
    some = pd.Series([3.0, 5.0] + [np.nan] * 18)
    curves = {
        name: analysis.survival(months, 12)
        for name, months in (("a", some), ("b", never), ("c", never))
    }
    ax = figures.survival(curves)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "a (2 events)"
    assert legend[1] == "b (no event: flat at 1)"
    assert legend[2] == "c (no event: flat at 1; hidden under b)"


def test_heatmap_legend_sits_below_its_cells():
    table = pd.DataFrame(
        [[0.1, 0.9], [0.5, 0.2]],
        index=pd.Index([1.0, 2.0], name="y"),
        columns=pd.Index([3.0, 4.0], name="x"),
    )
    ax = figures.heatmap(table, title="P")
    legend = ax.get_legend()
    assert "marginalised" in legend.get_texts()[0].get_text()
    ax.figure.canvas.draw()
    box = legend.get_window_extent().transformed(ax.transAxes.inverted())
    assert box.y1 < 0  # entirely below the axes: it covers no cell
