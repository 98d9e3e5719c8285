"""Explanations: the terms add up to the utility the engine used, and accounts read well."""

import numpy as np
import pandas as pd
import pytest

from sim import explain, replay
from sim.commands.cli import main
from sim.errors import SimInputError
from sim.model import engine, rng, rules
from sim.model.params import compile_params
from tests.conftest import BASELINE, SCENARIOS
from tests.test_replay import run_dir  # noqa: F401  (fixture)


@pytest.mark.parametrize("name", ["baseline", "betrayal_in_syria", "us_iran_thaw"])
def test_terms_add_up_to_the_utility_the_engine_used(name):
    from sim.scenario import load

    params = compile_params(load(SCENARIOS / f"{name}.toml"))
    keys = rng.run_keys(11, np.zeros(40, np.uint64), np.arange(40))
    k = len(params.issues)
    checked = 0
    for step in engine.steps(params, keys, 60):
        split = explain.terms(step.state, step.params)
        assert split.shape[-1] == len(explain.term_ids(params))
        eu = step.utility  # what the kernel weighed this month
        ok = np.isfinite(eu)
        np.testing.assert_allclose(split.sum(-1)[ok], eu[ok], rtol=0, atol=1e-12)
        # the kernel's terms are the terms of the numpy reference
        named = rules.utility_terms(step.state, step.params)
        want = np.concatenate(
            [rules.issue_terms(step.state, step.params)]
            + [named[t][..., None] for t in explain.RELATIONAL],
            axis=-1,
        )
        np.testing.assert_allclose(split[ok], want[ok], rtol=0, atol=1e-12)
        assert split.shape[-1] == k + len(explain.RELATIONAL)
        # the logit weights built from the terms are the weights the engine drew from
        again = rules.choice_weights(np.where(ok, split.sum(-1), -np.inf), step.params.temp)
        np.testing.assert_allclose(again, step.weights, rtol=1e-9, atol=1e-12)
        checked += 1
    assert checked == 60


def test_issue_terms_split_the_issues_term(baseline):
    params = compile_params(baseline)
    state = rules.initial_state(params, 3)
    np.testing.assert_allclose(
        rules.issue_terms(state, params).sum(-1), rules.utility_terms(state, params)["issues"]
    )


def test_steps_are_the_months_simulate_records(baseline):
    params = compile_params(baseline)
    keys = rng.run_keys(2, np.zeros(25, np.uint64), np.arange(25))
    traj = engine.simulate(params, keys, 48)
    months = list(engine.steps(params, keys, 48))
    assert [m.month for m in months] == list(range(1, 49))
    np.testing.assert_array_equal(np.stack([m.chosen for m in months], 1), traj.actions)
    np.testing.assert_array_equal(np.stack([m.fired for m in months], 1), traj.fired)


def test_aggregate_shares_totals_and_seeds():
    rp = replay.from_scenario(SCENARIOS / "betrayal_in_syria.toml", seed=3, months=48)
    table = explain.aggregate(rp, 60)
    ids = list(explain.term_ids(rp.params))
    np.testing.assert_allclose(table.total, table[ids].sum(axis=1))
    for _, rows in table.groupby("actor"):
        assert rows.share.sum() == pytest.approx(1.0)
        assert rows.months.sum() == 60 * 48
    betray = table[(table.actor == "russia") & (table.action == "betray")].iloc[0]
    assert betray["issue.ukraine"] > 0  # what Russia gains from the trade (C11)
    assert betray["consistency"] < 0  # acting against a partner it is aligned with
    again = explain.aggregate(rp, 60)
    pd.testing.assert_frame_equal(table, again)
    other = explain.aggregate(
        replay.from_scenario(SCENARIOS / "betrayal_in_syria.toml", seed=4, months=48), 60
    )
    assert not table[ids].equals(other[ids])
    changes = explain.aggregate(rp, 60, changes_only=True)
    assert changes.months.sum() < table.months.sum()


def test_account_of_a_betrayal(run_dir):  # noqa: F811
    rp = replay.from_results(run_dir)
    runs = rp.stored
    row = runs[runs.betrayal].iloc[0]
    rep, month = int(row.replicate), int(row.betrayal_month)
    acc = explain.account(rp, rep, month, "russia")
    assert acc.chosen == "betray" and acc.date == rp.scenario.date(month)
    assert acc.against != "betray" and acc.held == acc.against  # it changed course
    step = next(s for s in rp.steps(np.array([rep])) if s.month == month)
    eu = step.utility[0, rp.params.actors.index("russia")]
    names = rp.params.actions[1]
    assert acc.total == pytest.approx(eu[names.index("betray")] - eu[names.index(acc.against)])
    assert sum(acc.probabilities.values()) == pytest.approx(1.0)
    text = explain.describe(acc)
    assert "Russia chose 'betray'" in text and acc.date in text
    assert "on the table" in text  # a deal needs an offer
    other = explain.account(rp, rep, month, "russia", against="back_iran")
    assert other.against == "back_iran" and other.why_against == "asked for"
    with pytest.raises(SimInputError, match="against"):
        explain.account(rp, rep, month, "russia", against="isolate_iran")
    with pytest.raises(SimInputError, match="actor"):
        explain.account(rp, rep, month, "moscow")


def test_default_month_is_the_first_betrayal_or_policy_change(run_dir):  # noqa: F811
    rp = replay.from_results(run_dir)
    runs = rp.stored
    row = runs[runs.betrayal].iloc[0]
    m, why = explain.default_month(rp, int(row.replicate), "russia")
    assert m == row.betrayal_month and "betrayal" in why
    m, why = explain.default_month(rp, 0, "united_states")
    acts = rp.simulate(np.array([0])).actions[0, :, 2]
    before = rp.params.policy0[2] if m == 1 else acts[m - 2]
    assert acts[m - 1] != before or "never" in why


def test_explain_command_for_one_run_and_on_average(run_dir, tmp_path, capsys):  # noqa: F811
    runs = pd.read_parquet(run_dir / "runs.parquet")
    row = runs[runs.betrayal].iloc[0]
    date = replay.from_results(run_dir).scenario.date(int(row.betrayal_month))
    fig = tmp_path / "why"
    args = ["explain", str(run_dir), "-r", str(row.replicate), "--date", date, "--figure", str(fig)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "chose 'betray'" in out and (tmp_path / "why.png").exists()
    csv = tmp_path / "terms.csv"
    assert (
        main(
            [
                "explain",
                str(BASELINE),
                "-n",
                "5",
                "--months",
                "12",
                "--csv",
                str(csv),
                "--figure",
                str(tmp_path / "avg"),
            ]
        )
        == 0
    )
    table = pd.read_csv(csv)
    assert set(table.actor) == {"iran", "russia", "united_states", "gulf"}
    assert (tmp_path / "avg.png").exists()
    assert main(["explain", str(run_dir), "--month", "3"]) == 2
    assert main(["explain", str(run_dir), "-r", "0", "--date", "2040-01"]) == 2
    assert main(["explain", str(run_dir), "--set", "dynamics.rate=0.2"]) == 2
    assert "needs --replicate" in capsys.readouterr().err


def test_docs_explain_examples_run(tmp_path, monkeypatch):
    """The Python blocks of docs/explain.md run as they are (on a small betrayal sweep)."""
    import re

    from sim.sweeps import runner
    from tests.conftest import ROOT
    from tests.test_sweep import tiny

    pytest.importorskip("ema_workbench")
    text = (ROOT / "docs" / "explain.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    runner.run_sweep(tiny(points=30, replicates=4, months=60), tmp_path / "results/betrayal/sweep")
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(
            compile(block.replace("replicates=200", "replicates=40"), "docs/explain.md", "exec"), {}
        )
