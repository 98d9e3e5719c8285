"""Each kind of bad scenario input gives one SimInputError naming file and field."""

import re

import pytest

from sim import scenario
from sim.commands.cli import main
from sim.errors import SimInputError

from .conftest import BASELINE

BASE = BASELINE.read_text()


def write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def sub(old, new, count=1):
    assert old in BASE, old
    return BASE.replace(old, new, count)


CASES = [
    # (description, scenario text, field in the message, words in the message)
    (
        "unknown key",
        sub("memory = 0.995", "memory = 0.995\nmemmory = 0.9"),
        "actors.iran.memmory",
        "unknown key",
    ),
    (
        "wrong type",
        sub("capability = 0.15", 'capability = "high"'),
        "actors.iran.capability",
        "expected a number",
    ),
    (
        "out of range",
        sub("ukraine = 0.8           # C11", "ukraine = 1.8"),
        "actors.russia.salience.ukraine",
        "out of range",
    ),
    (
        "nan",
        sub("capability = 0.15", "capability = nan"),
        "actors.iran.capability",
        "not a finite number",
    ),
    ("inf", sub("rate = 0.1", "rate = inf"), "dynamics.rate", "not a finite number"),
    ("negative horizon", sub("months = 120", "months = -5"), "scenario.months", "out of range"),
    (
        "salience off scale",
        sub("syria_survival = 0.9    # C9", "syria_survival = -0.2"),
        "actors.iran.salience.syria_survival",
        "[0, 1]",
    ),
    (
        "missing salience",
        sub("syria_survival = 0.9    # C9\n", ""),
        "actors.iran.salience.syria_survival",
        "missing",
    ),
    (
        "unknown issue",
        sub("ukraine = 0.05          # assumption: marginal to Iran", "ukriane = 0.05"),
        "actors.iran.salience.ukriane",
        "unknown name",
    ),
    (
        "event names unknown actor",
        sub("alignment = { iran = { russia = 0.1 } }", "alignment = { iran = { rusia = 0.1 } }"),
        "events.tehran_summit.alignment.iran.rusia",
        "unknown partner",
    ),
    (
        "stance toward unknown actor",
        sub(
            "stance = { russia = 1.0, united_states = -0.3, gulf = -0.3 }",
            "stance = { russia = 1.0, usa = -0.3 }",
        ),
        "actors.iran.actions.deepen_russia.stance.usa",
        "unknown name",
    ),
    (
        "betrayal by unknown actor",
        sub('actor = "russia"\naction', 'actor = "moscow"\naction'),
        "deals.syria_for_ukraine.actor",
        "unknown name",
    ),
    (
        "duplicated pair",
        sub("iran.russia = 0.45", "iran.russia = 0.45\nrussia.iran = 0.4"),
        "alignment.russia.iran",
        "given twice",
    ),
    ("missing pair", sub("russia.gulf = -0.2", ""), "alignment", "missing"),
    (
        "empty window",
        sub("hazard = 0.02", "hazard = 0.02\nstart = 10\nend = 5"),
        "events.western_offer.end",
        "ends before it starts",
    ),
    (
        "month and hazard",
        sub("month = 1\n", "month = 1\nhazard = 0.1\n"),
        "events.tehran_summit",
        "exactly one of date or month",
    ),
    (
        "partnership with itself",
        sub('actors = ["iran", "russia"]', 'actors = ["iran", "iran"]'),
        "outcomes.partnership.actors",
        "2 different actors",
    ),
    (
        "start not a month",
        sub('start = "2015-12"', 'start = "Dec 2015"'),
        "scenario.start",
        "not a month",
    ),
    (
        "event date outside the horizon",
        sub("month = 1\n", 'date = "2030-01"\n'),
        "events.tehran_summit.date",
        "outside the scenario's months",
    ),
    (
        "deal by an unknown action",
        sub(
            'action = "betray"\nvictim = "iran"\nopen_months',
            'action = "sell"\nvictim = "iran"\nopen_months',
        ),
        "deals.syria_for_ukraine.action",
        "unknown name",
    ),
    (
        "offer of an unknown deal",
        sub('offers = "syria_for_ukraine"  # C11: the offer', 'offers = "nope"  # C11: the offer'),
        "events.western_offer.offers",
        "unknown name",
    ),
    (
        "unknown outcome kind",
        sub('kind = "balance"', 'kind = "balanced"'),
        "outcomes.hedging.kind",
        "unknown name",
    ),
    (
        "initial policy not an action",
        sub('policy = "hedge"', 'policy = "appease"'),
        "actors.iran.policy",
        "unknown name",
    ),
]


@pytest.mark.parametrize("desc,text,field,words", CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_names_file_and_field(tmp_path, desc, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(SimInputError) as info:
        scenario.load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert field in msg
    assert words in msg
    assert "\n" not in msg


def test_duplicated_actor_is_a_toml_error(tmp_path):
    path = write(tmp_path, BASE + '\n[actors.iran]\nlabel = "Iran again"\n')
    with pytest.raises(SimInputError, match="not valid TOML"):
        scenario.load(path)


def test_not_toml(tmp_path):
    with pytest.raises(SimInputError, match="not valid TOML"):
        scenario.load(write(tmp_path, "this is { not toml"))


def test_binary_file(tmp_path):
    path = tmp_path / "x.toml"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(SimInputError):
        scenario.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(SimInputError, match="does not exist"):
        scenario.load(tmp_path / "nope.toml")


def test_extends_loop(tmp_path):
    a = write(tmp_path, '[scenario]\nextends = "b.toml"\nname = "a"\n', "a.toml")
    write(tmp_path, '[scenario]\nextends = "a.toml"\nname = "b"\n', "b.toml")
    with pytest.raises(SimInputError, match="loop"):
        scenario.load(a)


def test_cli_error_is_one_line_on_stderr_exit_2(tmp_path, capsys):
    path = write(tmp_path, sub("capability = 0.15", "capability = -1"))
    code = main(["run", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert re.search(
        r"actors\.iran\.capability: out of range \(found -1\); allowed: a number in \(0, 1e\+06\]",
        err,
    )
    assert "Traceback" not in err
