"""Outcome kinds: a new kind is one module; names have one meaning; flagged headlines."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import api
from sim.analysis import summary
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.model import outcomes
from sim.model.outcomes import balance, defection
from sim.scenario import BASELINE, from_dict, load, read_toml

TOY = '''
"""A toy outcome kind: one actor's mean alignment with another above a level."""

import numpy as np

from sim.model.outcomes import BaseKind, Outcome, register


class Warm(BaseKind):
    name = "warm"
    keys = ("actors", "level")

    def declare(self, c, doc, field, actions):
        from sim.scenario.sections import actor_list

        return {
            "actors": actor_list(c, doc, field, "actors", tuple(actions), 2),
            "level": c.number(doc, field, "level", -1, 1),
        }

    def outcomes(self, spec, ctx):
        a, b = (ctx.label(x) for x in spec.fields["actors"])
        return (
            Outcome(spec.id, "true/false", f"{a}-{b} mean alignment above the level"),
            Outcome(f"{spec.id}_score", "index in [-1, 1]", f"{a}-{b} mean alignment"),
        )

    def columns(self, spec, traj, params, ctx):
        i, j = (params.actors.index(x) for x in spec.fields["actors"])
        mean = traj.pair_series(i, j)[:, 1:].astype(np.float64).mean(axis=1)
        return {spec.id: mean > spec.fields["level"], f"{spec.id}_score": mean}

    def headlines(self, spec, h, ctx):
        h.share(f"P({spec.fields['label']})", spec.id, "mean above the level", spec.id, "p")


KIND = register(Warm())
'''


@pytest.fixture
def toy_kind(tmp_path, monkeypatch):
    """The toy kind, defined in a temporary module and registered; forgotten afterwards."""
    (tmp_path / "toy_outcome_kind.py").write_text(textwrap.dedent(TOY))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("toy_outcome_kind")
    yield module
    outcomes.unregister("warm")
    sys.modules.pop("toy_outcome_kind", None)


def test_a_new_kind_is_one_module(toy_kind, tmp_path):
    scenario = tmp_path / "warm.toml"
    scenario.write_text(
        f'[scenario]\nextends = "{BASELINE}"\nname = "warm"\n\n'
        '[outcomes.warmth]\nkind = "warm"\nlabel = "Warm ties"\n'
        'actors = ["iran", "russia"]\nlevel = 0.3\n'
    )
    out = tmp_path / "res"
    argv = ["run", str(scenario), "-n", "20", "--months", "12", "--out", str(out), "--no-figures"]
    assert main(argv) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.warmth.dtype == bool and "warmth_score" in runs
    field = pq.read_schema(out / "runs.parquet").field("warmth_score")
    assert field.metadata[b"unit"] == b"index in [-1, 1]"
    names = [o["name"] for o in json.loads((out / "outcomes.json").read_text())["outcomes"]]
    assert {"warmth", "warmth_score", "betrayal", "hedging"} <= set(names)
    res = api.simulate(str(scenario), replicates=20, months=12)
    row = res.summary().set_index(["outcome", "key"]).loc[("warmth", "p")]
    assert row.statistic == "P(Warm ties)" and row.value == runs.warmth.mean()


def test_an_unknown_kind_is_one_line(tmp_path):
    raw = read_toml(BASELINE)
    raw["outcomes"]["x"] = {"kind": "warm", "actors": ["iran", "russia"], "level": 0.3}
    with pytest.raises(SimInputError, match=r"outcomes\.x\.kind"):
        from_dict(raw)


def test_every_registered_kind_declares_what_it_computes():
    """Each kind's declared per-run columns are exactly the columns it computes."""
    sc = load(BASELINE)
    res = api.simulate(sc, replicates=3, months=6)
    for spec, kind, ctx in outcomes.specs(sc.outcomes):
        declared = [o.name for o in kind.outcomes(spec, ctx) if o.kind == "scalar"]
        present = [c for c in res.runs.columns if c in declared]
        assert present == declared, spec.kind


def test_one_name_one_meaning_in_outcomes_and_mesa():
    """`hedging` is the true/false outcome; its index per month is `hedging_index`, in
    trajectories, outcomes.json and Mesa's DataCollector alike (the index used to overwrite
    the boolean in Mesa).
    """
    from sim.model import AllianceModel
    from sim.model.params import compile_params

    sc = load(BASELINE)
    names = [o.name for o in outcomes.declared(compile_params(sc))]
    assert len(names) == len(set(names))
    model = AllianceModel(BASELINE, seed=1, months=3)
    while model.running:
        model.step()
    data = model.datacollector.get_model_vars_dataframe()
    assert data.hedging.iloc[-1] in (True, False)
    assert data.hedging_index.notna().all() and -2 <= data.hedging_index.iloc[-1] <= 2
    res = api.simulate(BASELINE, replicates=1, seed=1, months=3)
    assert "hedging_index" in res.series and "hedging" not in res.series
    assert bool(res.runs.hedging.iat[0]) == data.hedging.iloc[-1]


def _runs(final: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"hedging": np.abs(final) <= 1.0, "hedging_final": final})


def test_a_threshold_on_the_resting_point_is_flagged_not_headlined():
    sc = load(BASELINE)
    rng = np.random.default_rng(0)
    resting = _runs(1.0 + rng.normal(0, 0.01, 400))  # the baseline: median 0.9998 vs band 1
    spread = _runs(rng.uniform(-2, 2, 400))
    spec = sc.outcome("balance")
    assert balance.KIND.threshold_check(spec, resting).decided
    assert not balance.KIND.threshold_check(spec, spread).decided
    flagged = summary.summarise(resting, sc).set_index(["outcome", "key"]).loc[("hedging", "p")]
    assert flagged.flag == "not informative" and "decided by the threshold" in flagged.note
    plain = summary.summarise(spread, sc).set_index(["outcome", "key"]).loc[("hedging", "p")]
    assert plain.flag == ""


def test_baseline_hedging_is_flagged_in_the_printed_summary(capsys, tmp_path):
    argv = ["run", "-n", "100", "--months", "120", "--out", str(tmp_path / "r"), "--no-figures"]
    assert main(argv) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("P(Iran hedges)"))
    assert "not informative" in line and "decided by the threshold" in line


def test_a_response_that_is_the_usual_action_is_said_in_words():
    """Iran's "response" to a betrayal is go_it_alone, as in almost every other month: the
    summary says so instead of presenting it as a response; a real change is kept.
    """
    sc = load(BASELINE)
    runs = pd.DataFrame(
        {
            "replicate": [0, 1],
            "betrayal": [True, False],
            "betrayal_month": pd.array([2, None], dtype="Int64"),
            "betrayal_response": ["go_it_alone", "none"],
        }
    )

    def series(after: str) -> pd.DataFrame:
        acts = ["go_it_alone"] * 3 + [after] * 12 + ["go_it_alone"] * 5
        return pd.DataFrame(
            {
                "replicate": np.repeat([0, 1], 21),
                "month": np.tile(np.arange(21), 2),
                "action__iran": ["go_it_alone", *acts, "go_it_alone", *["go_it_alone"] * 20],
            }
        )

    same = summary.summarise(runs, sc, 20, series("go_it_alone")).set_index(["outcome", "key"])
    assert same.loc[("betrayal", "response")].flag == defection.NOT_A_RESPONSE
    assert "what Iran does anyway, not a response" in same.loc[("betrayal", "response")].note
    runs.loc[0, "betrayal_response"] = "seek_us"
    changed = summary.summarise(runs, sc, 20, series("seek_us")).set_index(["outcome", "key"])
    assert ("betrayal", "response") not in changed.index
    assert changed.loc[("betrayal", "response:seek_us")].flag == ""


def test_the_report_says_which_rows_are_not_findings(tmp_path):
    """The report's narrative and headline table give the reason, not the number, for the
    baseline's P(Iran hedges) and Iran's "response" to a betrayal.
    """
    from sim.analysis import findings, statistics
    from sim.report import html, narrative

    out = tmp_path / "r"
    assert main(["run", "-n", "300", "--seed", "3", "--out", str(out), "--no-figures"]) == 0
    fs = findings.gather([statistics.load(out)], lever_analysis=False)
    _, sentences = narrative.answers(fs)
    text = " ".join(sentences)
    assert "Iran hedges: " in text and "decided by the threshold, not informative" in text
    if fs[0].summary.key.eq("response").any():  # a betrayal happened in these runs
        assert "shows no distinct response" in text
    table = html.headline_table(fs)
    assert table.loc["P(Iran hedges)"].iloc[0].startswith("not informative")


def test_a_partnership_reached_on_the_threshold_is_flagged():
    """A pair that plateaus just above the partnership threshold (shared_war: 0.755-0.775
    against 0.75) has P(partnership) decided by the threshold; the check reads the best level
    held for k months from the per-month table.
    """
    from sim.model.outcomes import partnership

    series = np.array([[0.1, 0.8, 0.9, 0.85, 0.2], [0.0, 0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(partnership.best_level(series, 3), [0.8, 0.2])
    assert np.isnan(partnership.best_level(series, 6)).all()
    sc = load(BASELINE)
    spec = sc.outcome("partnership")

    def table(level: float) -> pd.DataFrame:
        months = np.arange(25)
        return pd.DataFrame(
            {
                "replicate": np.repeat(np.arange(40), 25),
                "month": np.tile(months, 40),
                "alignment__iran__russia": np.tile(np.where(months > 5, level, 0.3), 40),
            }
        )

    runs = pd.DataFrame({"replicate": np.arange(40), "partnership": True})
    assert partnership.KIND.threshold_check(spec, runs, table(0.77)).decided
    assert not partnership.KIND.threshold_check(spec, runs, table(0.95)).decided
    assert partnership.KIND.threshold_check(spec, runs) is None  # no per-month table
