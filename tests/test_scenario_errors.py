"""Each kind of bad scenario input gives one SimInputError naming file and field."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from sim import scenario
from sim.commands.cli import main
from sim.errors import SimInputError

from .conftest import BASELINE, ROOT

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


# --------------------------------------------------------------------------------------------
# `extends` reads only small regular TOML files, reported against the scenario's own field
# (a real `sim` process each, with bounded memory, so a reader that follows /dev/zero fails
# the test instead of the machine)


def _sim(*argv, timeout=60):
    def limit_memory():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run(
        [sys.executable, "-m", "sim", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit_memory,
        cwd=ROOT,
    )


def _bases(tmp_path):
    """Named bases a variant may point at, each not a scenario file; SECRET must never show."""
    (tmp_path / "notes.txt").write_text('password = "SECRET"\n')
    (tmp_path / "foreign.toml").write_text('password = "SECRET"\n[api]\ntoken = "SECRET"\n')
    (tmp_path / "big.toml").write_text("# SECRET\n" * 300_000)
    (tmp_path / "bad.toml").write_text("SECRET SECRET\n")
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "environ.toml").symlink_to("/proc/self/environ")
    (tmp_path / "folder.toml").mkdir()
    return {
        "not .toml": ("notes.txt", "unexpected file type"),
        "system file": ("/etc/shadow", "unexpected file type"),
        "proc file": ("/proc/self/environ", "unexpected file type"),
        "device": ("/dev/zero", "unexpected file type"),
        "device named .toml": ("/dev/zero.toml", "does not exist"),
        "fifo": ("pipe.toml", "not a regular file"),
        "link to /proc": ("environ.toml", "unexpected file type"),  # judged by its target
        "too large": ("big.toml", "1,048,576 bytes"),
        "not TOML": ("bad.toml", "not valid TOML"),
        "not a scenario": ("foreign.toml", "not a scenario file"),
        "directory": ("folder.toml", "is a directory"),
    }


BASE_CASES = [
    "not .toml", "system file", "proc file", "device", "device named .toml", "fifo",
    "link to /proc", "too large", "not TOML", "not a scenario", "directory",
]  # fmt: skip


@pytest.mark.parametrize("case", BASE_CASES)
def test_extends_reads_only_small_regular_toml_files(tmp_path, case):
    base, words = _bases(tmp_path)[case]
    variant = write(tmp_path, f'[scenario]\nextends = "{base}"\nname = "v"\n', "variant.toml")
    proc = _sim("run", str(variant), "--list-parameters")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    err = proc.stderr
    assert err.startswith(f"sim run: error: {variant}: scenario.extends: "), err
    assert words in err and repr(base) in err
    assert "SECRET" not in err and "password" not in err and "token" not in err


def test_every_toml_goes_through_the_bounded_reader(tmp_path):
    """Scenarios, experiments, evidence and landscape tables share the reader's guards."""
    from sim.model import landscape
    from sim.sweeps.experiment import load_experiment

    def waited(signum, frame):
        raise TimeoutError("the reader is waiting for a writer on the pipe")

    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "environ.toml").symlink_to("/proc/self/environ")
    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(30)  # a reader that opens the pipe blocks; the alarm turns that into a failure
    try:
        for reader in (scenario.load, load_experiment, landscape.read_table):
            with pytest.raises(SimInputError, match="not a (regular )?file"):
                reader(tmp_path / "pipe.toml")
            with pytest.raises(SimInputError, match="pseudo-file"):
                reader(tmp_path / "environ.toml")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------------------------
# Deep nesting is refused in one line, never a RecursionError

DEEP_ARRAY = "[" * 500 + "]" * 500
DEEP_TABLE = ".".join(["deep"] * 500)


@pytest.mark.parametrize(
    "text, extra",
    [
        (sub("[scenario]\n", f"[scenario]\ndeep = {DEEP_ARRAY}\n"), []),
        (sub("[scenario]\n", "[scenario]\ndeep = " + "{ a = " * 500 + "1" + " }" * 500 + "\n"), []),
        (BASE + f"\n[{DEEP_TABLE}]\nx = 1\n", ["--set", "dynamics.rate=0.2"]),
        (BASE + f"\n[{DEEP_TABLE}]\nx = 1\n", []),
    ],
    ids=["arrays", "inline tables", "dotted table with --set", "dotted table"],
)
def test_deep_nesting_is_one_line(tmp_path, capsys, text, extra):
    path = write(tmp_path, text)
    code = main(["run", str(path), "--list-parameters", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err[-2000:]
    assert f"{path}: nested too deeply" in err and "at most 32 levels" in err


def test_deep_set_name_is_one_line(capsys):
    code = main(["run", str(BASELINE), "--set", f"{DEEP_TABLE}=1", "--list-parameters"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "unknown parameter" in err


# --------------------------------------------------------------------------------------------
# --set takes numbers as users type them, not everything float() accepts


@pytest.mark.parametrize("value", ["0_5", "1_000", "nan", "inf", "0x10", "1e", "--1", "½"])
def test_set_refuses_what_is_not_a_plain_number(capsys, value):
    code = main(["run", str(BASELINE), "--set", f"dynamics.rate={value}", "--list-parameters"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "dynamics.rate: not" in err and repr(value) in err


@pytest.mark.parametrize("value, shown", [("0.25", "0.25"), (".5", "0.5"), ("2.5e-1", "0.25")])
def test_set_takes_plain_numbers(capsys, value, shown):
    code = main(["run", str(BASELINE), "--set", f"dynamics.rate={value}", "--list-parameters"])
    assert code == 0 and f"dynamics.rate = {shown}\n" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Events: a documented limit, checked before any event is validated; loading stays linear


def _events(n: int) -> str:
    return "".join(f"[events.e{i}]\nhazard = 0.001\n" for i in range(n))


def test_too_many_events_is_one_line(tmp_path):
    from sim.scenario.limits import MAX_EVENTS

    shipped = BASE.count("[events.")
    path = write(tmp_path, BASE + _events(MAX_EVENTS + 1 - shipped))
    with pytest.raises(SimInputError) as info:
        scenario.load(path)
    msg = str(info.value)
    assert f"{path}: events: too many entries (found {MAX_EVENTS + 1})" in msg
    assert "at most 10,000" in msg


def test_loading_grows_linearly_with_events(tmp_path):
    def seconds(n):
        path = write(tmp_path, BASE + _events(n), f"e{n}.toml")
        start = time.perf_counter()
        assert len(scenario.load(path).events) == n + BASE.count("[events.")
        return time.perf_counter() - start

    seconds(500)  # warm up imports and caches
    small, large = min(seconds(1000) for _ in range(2)), min(seconds(9_990) for _ in range(2))
    assert large < 10, "the limit must load in seconds"
    assert large < 25 * small, f"1,000 events: {small:.2f} s; 10,000: {large:.2f} s"
