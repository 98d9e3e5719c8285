"""Stylized-fact checks: structure, reproducibility, the statistics' arithmetic, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import validation
from sim.commands.cli import main
from sim.validation import Target, wilson
from tests.conftest import BASELINE

SMALL = {"replicates": 200, "seed": 7, "months": 60}
NAMES = [
    "no_alliance",
    "ties_stay_positive",
    "unsc_lukewarm",
    "offer_raises_betrayal",
    "iran_hedges",
    "no_break_with_west",
    "summit_fades",
    "isolation_drives_convergence",
]


@pytest.fixture(scope="module")
def results():
    from sim import scenario

    return validation.validate(scenario.load(BASELINE), **SMALL)


def test_every_check_reports_a_full_record(results):
    assert [r.name for r in results] == NAMES
    for r in results:
        assert r.claims and all(c.startswith("C") for c in r.claims)
        assert r.statement and r.measure and r.why
        assert (r.runs, r.seed, r.months) == (200, 7, 60)
        assert r.passed is (r.target.met(r.statistic))
        if r.interval is not None:
            assert r.interval[0] <= r.statistic <= r.interval[1] + 1e-12


def test_shares_are_shares(results):
    by = {r.name: r for r in results}
    for name in ("no_alliance", "ties_stay_positive", "unsc_lukewarm", "iran_hedges"):
        assert 0.0 <= by[name].statistic <= 1.0


def test_baseline_meets_every_stylized_fact():
    """The baseline, with its evidence-table weights, reproduces the article's assessments.

    A reduced run of `sim validate` (500 runs, the default seed and horizon): a change to the
    rules or the baseline that breaks a check fails here; docs/validation.md says how robust
    each pass is across the evidence ranges (`sim validate --joint`).
    """
    from sim import scenario

    res = validation.validate(scenario.load(BASELINE), replicates=500)
    failing = {r.name: round(r.statistic, 4) for r in res if not r.passed}
    assert not failing


def test_same_seed_same_results(results):
    from sim import scenario

    again = validation.validate(scenario.load(BASELINE), **SMALL)
    assert [(r.statistic, r.passed) for r in again] == [(r.statistic, r.passed) for r in results]


def _spec(scenario, name):
    return next(s for s in validation.scenario_checks(scenario) if s.id == name)


def _check(scenario, name, replicates=200, seed=7, months=None):
    spec = _spec(scenario, name)
    base = validation.run_sample(scenario, replicates, seed, months)

    def rerun(overrides):
        return validation.run_sample(scenario, replicates, seed, base.months, overrides)

    return validation.evaluate(spec, base, rerun)


def test_unsc_share_counts_crisis_months_only(baseline):
    base = validation.run_sample(baseline, 50, 3, 24)
    r = validation.evaluate(_spec(baseline, "unsc_lukewarm"), base, lambda o: None)
    ev = base.params.events.index("unsc_crisis")
    ai = base.params.actors.index("russia")
    fired = base.traj.fired[:, :, ev]
    back = base.traj.actions[:, :, ai] == base.params.actions[ai].index("back_iran")
    assert r.statistic == pytest.approx(back[fired].mean())


def test_offer_check_with_forced_offers_and_no_offers(baseline):
    spec = _spec(baseline, "offer_raises_betrayal")
    always = baseline.with_overrides({"events.western_offer.hazard": 1.0})
    r = validation.evaluate(spec, validation.run_sample(always, 20, 1, 12), lambda o: None)
    assert r.passed is None  # every month follows an offer: nothing to compare with
    never = baseline.with_overrides({"events.western_offer.hazard": 0.0})
    r = validation.evaluate(spec, validation.run_sample(never, 20, 1, 12), lambda o: None)
    assert r.passed is None


# Each check can fail: a declared setting (the baseline with a few numbers changed, or a shipped
# scenario) in which the article's assessment does not hold, and the check says so.
CAN_FAIL = {
    "no_alliance": ("shared_war", {}),
    "ties_stay_positive": ("baseline", {"alignment.iran.russia": -0.5}),
    "unsc_lukewarm": (
        "baseline",
        {"actors.russia.salience.western_ties": 0.0, "actors.russia.weights.autonomy": 0.0},
    ),
    "offer_raises_betrayal": ("baseline", {"actors.russia.salience.ukraine": 0.0}),
    "iran_hedges": ("shared_war", {}),
    "no_break_with_west": ("baseline", {"alignment.iran.united_states": -0.95}),
    "summit_fades": ("baseline", {"dynamics.atmosphere": 0.99}),
    "isolation_drives_convergence": ("us_iran_thaw", {}),
}


@pytest.mark.parametrize("name", NAMES)
def test_every_check_can_fail(name):
    from sim import scenario

    from .conftest import SCENARIOS

    file, overrides = CAN_FAIL[name]
    sc = scenario.load(SCENARIOS / f"{file}.toml", overrides)
    result = _check(sc, name)
    assert result.passed is False, (name, result.statistic)


def test_wilson_interval():
    lo, hi = wilson(0, 100)
    assert lo == 0.0 and 0.03 < hi < 0.04
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_target():
    assert Target("<=", 0.2).met(0.2) and not Target("<", 0.2).met(0.2)
    assert not Target(">=", 0.5).met(float("nan"))
    assert str(Target(">=", 0.9)) == ">= 0.9"


def test_results_table(results):
    table = validation.results_table(results)
    assert list(table.check) == NAMES
    assert np.isfinite(table.statistic).all()


def test_cli_reports_and_exits_zero(capsys):
    argv = ["validate", str(BASELINE), "--replicates", "200", "--seed", "7", "--months", "60"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out
    assert out.count("target:") == len(NAMES)
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("SUMMARY: ") and "checks pass" in summary
    assert "[" in out  # Wilson intervals on shares


def test_cli_rejects_bad_sizes(capsys):
    assert main(["validate", str(BASELINE), "--replicates", "0"]) == 2
    assert "--replicates" in capsys.readouterr().err


def test_range_ends_rerun_each_check_at_both_ends(baseline):
    ranges = {"actors.iran.weights.autonomy": (0.4, 1.0)}
    table = validation.at_range_ends(baseline, ranges, replicates=100, seed=7, months=60)
    assert len(table) == 2 * len(NAMES)
    assert set(table.end) == {"low", "high"} and set(table.value) == {0.4, 1.0}
    hedging = table[table.check == "iran_hedges"].set_index("end").statistic
    # A stronger dislike of dependence makes Iran hedge at least as much (C5, C6).
    assert hedging["high"] >= hedging["low"]


def test_cli_range_ends_table_and_bad_name(capsys):
    args = ["validate", str(BASELINE), "-n", "50", "--months", "24"]
    assert main([*args, "--range-ends", "actors.iran.weights.autonomy"]) == 0
    out = capsys.readouterr().out
    assert "Robustness:" in out and "actors.iran.weights.autonomy  low" in out
    assert "rerun checks fail" in out.strip().splitlines()[-1]
    assert main([*args, "--range-ends", "actors.iran.weights.nope"]) == 2
    err = capsys.readouterr().err
    assert "--range-ends" in err and "actors.iran.weights.nope" in err and "Traceback" not in err


def test_joint_draws_settings_and_reports_each_check(baseline):
    from sim.scenario.evidence import evidence_ranges

    table = validation.joint(baseline, evidence_ranges(BASELINE), 3, replicates=30, months=24)
    assert sorted(set(table.setting)) == [0, 1, 2]
    assert list(dict.fromkeys(table.check)) == NAMES
    assert "P(betrayal)" in table.columns
    again = validation.joint(baseline, evidence_ranges(BASELINE), 3, replicates=30, months=24)
    assert table.equals(again)


def test_cli_joint_prints_pass_rates(capsys):
    args = ["validate", str(BASELINE), "-n", "50", "--months", "24", "--joint", "2"]
    assert main([*args, "--joint-replicates", "20"]) == 0
    out = capsys.readouterr().out
    assert "Joint uncertainty: 2 settings" in out and "all checks together" in out
    assert main([*args[:-2], "--joint", "0"]) == 2


def test_checks_file_errors_name_the_field(tmp_path, baseline):
    from sim.errors import SimInputError
    from sim.validation.facts import checks

    bad = tmp_path / "c.toml"
    bad.write_text(
        '[checks.x]\nkind = "share_of_runs"\nclaims = ["C1"]\nstatement = "s"\n'
        'op = "<"\ntarget = 0.2\nwhy = "w"\noutcome = "partnership"\nnope = 1\n'
    )
    with pytest.raises(SimInputError, match="checks.x.nope"):
        checks.load_checks(bad, baseline)
