"""The baseline's evidence table: complete, consistent with the scenario, honest ranges."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from sim.errors import SimInputError
from sim.scenario import claims, evidence
from sim.scenario.evidence import (
    Entry,
    check_evidence,
    evidence_path,
    evidence_ranges,
    group_of,
    grouped,
    load_evidence,
    scenario_evidence,
)
from tests.conftest import BASELINE, ROOT

TABLE = ROOT / "scenarios" / "evidence" / "baseline.toml"
DOMAIN = ROOT.parent / "shared" / "DOMAIN.md"  # shared/ sits beside the checkout


@pytest.fixture(scope="module")
def entries():
    return load_evidence(TABLE)


def test_evidence_path_convention():
    assert evidence_path("scenarios/x.toml") == Path("scenarios/evidence/x.toml")


def test_baseline_table_matches_scenario(baseline, entries):
    assert check_evidence(baseline, entries) == []


def test_every_baseline_number_has_one_entry(baseline, entries):
    names = [e.name for e in entries]
    assert sorted(names) == sorted(baseline.parameters())


def test_values_inside_ranges_and_claims_known(entries):
    for e in entries:
        assert e.low <= e.value <= e.high, e.name
        assert e.claims and all(c in claims.CITABLE for c in e.claims), e.name
        assert e.reason.strip(), e.name


def test_ranges_stay_inside_what_the_scenario_accepts(baseline, entries):
    for e in entries:
        for bound in (e.low, e.high):
            baseline.with_overrides({e.name: bound})  # raises if out of the allowed range


def test_integer_parameters_have_integer_bounds(entries):
    for e in entries:
        if e.integer:
            assert float(e.low).is_integer() and float(e.high).is_integer(), e.name


def test_missing_entry_is_reported(baseline, entries):
    problems = check_evidence(baseline, entries[1:])
    assert [(p.name, p.message) for p in problems] == [
        (entries[0].name, "scenario number has no evidence entry")
    ]


def test_unknown_parameter_is_reported(baseline, entries):
    extra = replace(entries[0], name="actors.iran.salience.mars")
    problems = check_evidence(baseline, [*entries, extra])
    assert [p.name for p in problems] == ["actors.iran.salience.mars"]
    assert "lacks" in problems[0].message


def test_value_mismatch_and_out_of_range_are_reported(baseline, entries):
    e = entries[0]
    wrong = replace(e, value=e.high + 1)
    messages = {p.message for p in check_evidence(baseline, [wrong, *entries[1:]])}
    assert messages == {"value differs from the scenario's", "value outside [low, high]"}


def test_unknown_claim_is_reported(baseline, entries):
    bad = replace(entries[0], claims=("C17",))
    problems = check_evidence(baseline, [bad, *entries[1:]])
    assert [p.message for p in problems] == ["unknown claim"]


def _write(tmp_path, body: str) -> Path:
    p = tmp_path / "ev.toml"
    p.write_text(body)
    return p


ONE = 'value = 1.0\nlow = 0.5\nhigh = 1.0\nclaims = ["C9"]\nreason = "Syria."\n'


def test_group_entries_expand_to_one_per_name(tmp_path):
    p = _write(tmp_path, '[[entry]]\nnames = ["a.b", "a.c"]\n' + ONE)
    got = load_evidence(p)
    assert [e.name for e in got] == ["a.b", "a.c"]
    assert got[0] == Entry("a.b", 1.0, 0.5, 1.0, ("C9",), "Syria.")


def test_an_entry_may_name_the_source_of_a_dated_fact(tmp_path):
    p = _write(tmp_path, '[[entry]]\nname = "a.b"\nsource = " IAEA, 16 January 2016. "\n' + ONE)
    assert load_evidence(p)[0].source == "IAEA, 16 January 2016."


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ('[[entry]]\nname = "a.b"\n' + ONE.replace('["C9"]', '["C99"]'), "entry[0].claims", "C99"),
        ('[[entry]]\nname = "a.*"\n' + ONE, "entry[0].names", "wildcards"),
        ('[[entry]]\nname = "a.b"\n' + ONE.replace("low = 0.5", 'low = "x"'), "entry[0].low", "x"),
        ('[[entry]]\nname = "a.b"\nnames = ["a.c"]\n' + ONE, "entry[0]", "exactly one"),
        (
            '[[entry]]\nname = "a.b"\n' + ONE + '[[entry]]\nname = "a.b"\n' + ONE,
            "entry[1]",
            "twice",
        ),
        ('[[entry]]\nname = "a.b"\ncolour = 1\n' + ONE, "entry[0].colour", "unknown key"),
        ('[[entry]]\nname = "a.b"\n' + ONE.replace('"Syria."', '""'), "entry[0].reason", "reason"),
        ('[[entry]]\nname = "a.b"\nsource = " "\n' + ONE, "entry[0].source", "documented"),
    ],
)
def test_bad_tables_name_file_and_field(tmp_path, body, field, words):
    field = field.replace("names", "name") if "wildcards" in words else field
    p = _write(tmp_path, body)
    with pytest.raises(SimInputError) as err:
        load_evidence(p)
    assert err.value.file == str(p)
    assert err.value.field == field
    assert words in str(err.value)


def test_evidence_ranges_for_baseline(baseline, entries):
    ranges = evidence_ranges(BASELINE)
    assert set(ranges) == set(baseline.parameters())
    assert ranges["actors.russia.salience.ukraine"] == (0.6, 1.0)
    assert all(lo <= hi for lo, hi in ranges.values())


def test_other_scenarios_fall_back_to_baseline_for_shared_names(tmp_path):
    src = BASELINE.read_text().replace('name = "baseline"', 'name = "copy"')
    sc_path = tmp_path / "copy.toml"
    sc_path.write_text(src)
    (tmp_path / "evidence").mkdir()
    table = TABLE.read_text()
    (tmp_path / "evidence" / "baseline.toml").write_text(table)
    assert evidence_ranges(sc_path) == evidence_ranges(BASELINE)
    # the scenario's own table wins for the names it lists
    (tmp_path / "evidence" / "copy.toml").write_text(
        '[[entry]]\nname = "dynamics.rate"\nvalue = 0.1\nlow = 0.01\nhigh = 0.3\n'
        'claims = ["assumption"]\nreason = "Wider."\n'
    )
    assert evidence_ranges(sc_path)["dynamics.rate"] == (0.01, 0.3)
    assert len(scenario_evidence(sc_path)) == len(evidence_ranges(BASELINE))


def _variant(folder: Path, name: str, extends: Path | str, body: str = "") -> Path:
    """A variant scenario file in ``folder`` that extends ``extends`` and adds ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(f'[scenario]\nname = "{name}"\nextends = "{extends}"\n{body}')
    return path


def test_variant_outside_scenarios_inherits_its_base_evidence(tmp_path):
    variant = _variant(tmp_path, "variant", BASELINE, "[dynamics]\nrate = 0.2\n")
    assert evidence_path(variant).exists() is False
    assert evidence_ranges(variant) == evidence_ranges(BASELINE)
    entries = scenario_evidence(variant)
    assert [e.name for e in entries] == [e.name for e in scenario_evidence(BASELINE)]


def test_evidence_follows_a_chain_of_extends(tmp_path):
    # b (in its own folder) extends a, which extends the shipped baseline; a's own table
    # widens one range, and b inherits that, and the baseline's for everything else.
    _variant(tmp_path / "a", "a", BASELINE, "[dynamics]\nrate = 0.2\n")
    (tmp_path / "a" / "evidence").mkdir()
    (tmp_path / "a" / "evidence" / "a.toml").write_text(
        '[[entry]]\nname = "dynamics.rate"\nvalue = 0.2\nlow = 0.01\nhigh = 0.4\n'
        'claims = ["assumption"]\nreason = "Wider."\n'
    )
    b = _variant(tmp_path / "b", "b", "../a/a.toml")
    ranges = evidence_ranges(b)
    assert ranges["dynamics.rate"] == (0.01, 0.4)
    base = evidence_ranges(BASELINE)
    assert {k: v for k, v in ranges.items() if k != "dynamics.rate"} == {
        k: v for k, v in base.items() if k != "dynamics.rate"
    }


def test_experiment_range_evidence_works_on_a_variant_outside_scenarios(tmp_path):
    from sim.sweeps.experiment import load_experiment

    variant = _variant(tmp_path / "mine", "variant", BASELINE, "[dynamics]\nrate = 0.2\n")
    exp_path = tmp_path / "exp.toml"
    exp_path.write_text(
        f'[experiment]\nname = "t"\nscenario = "{variant}"\nseed = 1\nreplicates = 2\n'
        '[design]\nmethod = "lhs"\npoints = 4\n'
        '[parameters]\n"actors.russia.salience.ukraine" = { range = "evidence" }\n'
    )
    exp = load_experiment(exp_path)
    (param,) = exp.parameters
    assert (param.low, param.high, param.source) == (0.6, 1.0, "evidence")


def test_sim_evidence_shows_a_variant_its_base_evidence(tmp_path, capsys):
    from sim.commands.cli import main

    variant = _variant(tmp_path, "variant", BASELINE)
    assert main(["evidence", str(variant)]) == 0
    out = capsys.readouterr().out
    assert f"({len(evidence_ranges(BASELINE))} parameters)" in out.splitlines()[0]
    assert "salience.ukraine" in out


def test_grouping_order(baseline, entries):
    groups = [g for g, _ in grouped(baseline, entries)]
    assert groups[:4] == list(baseline.actor_ids)
    assert groups[4:] == [
        "issues", "alignment", "trust", "dynamics", "deals", "events", "outcomes", "scenario"
    ]  # fmt: skip
    assert group_of("actors.gulf.salience.nuclear", baseline.actor_ids) == "gulf"


def test_claims_table_matches_domain_notes():
    assert [c.id for c in claims.CLAIMS] == [f"C{i}" for i in range(1, 17)]
    if not DOMAIN.exists():
        pytest.skip("domain notes not available")
    rows = re.findall(r"^\| (C\d+) \| ([^|]+) \|", DOMAIN.read_text(), flags=re.M)
    assert [(i, s.strip()) for i, s in rows] == [(c.id, c.section) for c in claims.CLAIMS]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_has_complete_evidence(path):
    from sim import scenario as scenario_mod

    sc = scenario_mod.load(path)
    problems = evidence.check_evidence(sc, evidence.scenario_evidence(path, sc))
    assert not problems, problems[:3]
