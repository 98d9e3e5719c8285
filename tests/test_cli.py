"""The command line as a user meets it: help, exit codes, errors on stderr."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.commands.cli import COMMANDS, build_parser, main

from .conftest import BASELINE


def available():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return list(sub.choices)


def test_top_level_help():
    proc = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for name in available():
        assert name in proc.stdout


@pytest.mark.parametrize("name", available())
def test_each_subcommand_has_help(name, capsys):
    assert main([name, "--help"]) == 0
    assert "usage: sim " + name in capsys.readouterr().out


def test_every_available_command_is_listed():
    assert set(available()) <= set(COMMANDS)


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_unknown_option_exit_2_on_stderr():
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "x.toml", "--bogus"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr and not proc.stdout


def test_missing_file_exit_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------------------------
# Every error is one line `sim CMD: error: ...` with exit status 2, usage errors included


def sim(*argv, **kw):
    return subprocess.run(
        [sys.executable, "-m", "sim", *argv], capture_output=True, text=True, timeout=120, **kw
    )


def one_line_error(proc, command, *words):
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert proc.stderr.startswith(f"sim {command}: error: ")
    assert "usage:" not in proc.stderr and "Traceback" not in proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "argv, words",
    [
        (["sweep"], ["the following arguments are required: experiment"]),
        (["run", "x.toml", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["evidence", "--format", "html"], ["invalid choice: 'html'"]),
        (["run", "x.toml", "--replicates", "many"], ["--replicates", "'many'"]),
        (["sweep", "x.toml", "--workers", "1e9"], ["--workers", "above the limit"]),
        (["blocs", "x.csv", "--month", "1e9"], ["--month", "'1e9'"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_usage_errors_are_one_line(argv, words):
    one_line_error(sim(*argv), argv[0], *words, f"see `sim {argv[0]} --help`")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "{B}", "--months", "1e9"], ["--months", "1e9", "[1, 10,000]"]),
        (["run", "{B}", "--replicates", "1e12"], ["--replicates", "[1, 100,000,000]"]),
        (["run", "{B}", "-n", "100000000", "--months", "120"], ["run-months"]),
        (["run", "{B}", "--seed", "1e100"], ["--seed", "9,223,372,036,854,775,807]"]),
        (["validate", "--months", "1000000000"], ["--months", "[1, 10,000]"]),
        (["validate", "-n", "1e12"], ["--replicates", "[1, 100,000,000]"]),
        (["validate", "-n", "10000000", "--months", "120"], ["run-months"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_absurd_sizes_are_refused_up_front_with_the_limit(tmp_path, argv, words):
    argv = [a.replace("{B}", str(BASELINE)) for a in argv]
    if argv[0] == "run":
        argv += ["--out", str(tmp_path / "o")]
    start = time.perf_counter()
    proc = sim(*argv)
    assert time.perf_counter() - start < 60  # refused, not allocated
    one_line_error(proc, argv[0], *words)
    assert not (tmp_path / "o").exists()


def test_whole_numbers_may_use_exponents(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["run", str(BASELINE), "-n", "2e1", "--months", "1.2e1", "--out", str(out)]
    assert main([*argv, "--no-figures"]) == 0
    assert "20 replicates x 12 months" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Output that cannot be written is refused before any work, for every command that writes


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "run"
    argv = ["run", str(BASELINE), "-n", "5", "--months", "6", "--no-figures", "--out", str(out)]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    path = tmp_path_factory.mktemp("exp") / "exp.toml"
    path.write_text(
        f'[experiment]\nname = "w"\nscenario = "{BASELINE}"\nseed = 1\nreplicates = 2\n'
        'months = 6\n[design]\nmethod = "lhs"\npoints = 2\n[parameters]\n'
        '"actors.iran.memory" = { low = 0.9, high = 0.99 }\n'
    )
    return path


WRITERS = {
    # command: argv with OUT where the output path goes (a folder or a file name)
    "run": ["run", str(BASELINE), "-n", "2", "--months", "3", "--out", "OUT"],
    "sweep": ["sweep", "EXP", "--out", "OUT"],
    "evidence": ["evidence", "--format", "markdown", "--out", "OUT.md"],
    "plot": ["plot", "RESULTS", "--out", "OUT"],
    "report": ["report", "RESULTS", "--out", "OUT.html"],
    "blocs": ["blocs", str(BASELINE), "--figure", "OUT.png"],
    "backtest": [
        "backtest",
        str(BASELINE.parents[1] / "backtests" / "history_2015_2025" / "events.toml"),
        "--out",
        "OUT",
    ],
    "calibrate": ["calibrate", str(BASELINE), "--until", "2019", "--out", "OUT"],
    "evaluate": [
        "evaluate",
        str(BASELINE.parents[1] / "evaluations" / "rolling_origin.toml"),
        "--out",
        "OUT",
    ],
    "explain": ["explain", str(BASELINE), "-n", "2", "--figure", "OUT.png"],
    "whatif": [
        "whatif",
        str(BASELINE),
        "--at",
        "2017-01",
        "--event",
        "western_offer",
        "--figure",
        "OUT.png",
    ],
    "levers": ["levers", "RESULTS", "--outcome", "betrayal", "--figure", "OUT.png"],
    "game": ["game", str(BASELINE), "--date", "2016-06", "-n", "2", "--out", "OUT"],
    "forecast": [
        "forecast",
        str(BASELINE.parents[1] / "forecasts" / "questions" / "outlook_2026_2030.toml"),
        "--seal",
        "--ledger",
        "OUT.md",
    ],
}


def test_every_writing_command_is_covered():
    from sim.commands.cli import COMMANDS

    readers = {"validate", "explore"}  # these write nothing
    assert set(COMMANDS) == set(WRITERS) | readers


@pytest.mark.parametrize("where", ["under /proc", "read-only /sys", "parent is a file"])
@pytest.mark.parametrize("command", list(WRITERS))
def test_unwritable_output_is_one_line(tmp_path, capsys, results_dir, experiment, command, where):
    (tmp_path / "file").write_text("mine")
    out = {
        "under /proc": "/proc/sim-test/out",
        "read-only /sys": "/sys/sim-test-out",
        "parent is a file": str(tmp_path / "file" / "out"),
    }[where]
    swap = {"OUT": out, "RESULTS": str(results_dir), "EXP": str(experiment)}
    argv = [
        a.replace("OUT", swap["OUT"]) if "OUT" in a else swap.get(a, a) for a in WRITERS[command]
    ]
    code = main(argv)
    err = capsys.readouterr().err
    field = next(a for a in WRITERS[command] if a in ("--out", "--figure", "--ledger"))
    assert code == 2 and err.count("\n") == 1, err[-2000:]
    assert err.startswith(f"sim {command}: error: {field}: cannot write"), err
    assert (tmp_path / "file").read_text() == "mine"


# forecast appends to its ledger; plot writes new files into a folder (each checked)
@pytest.mark.parametrize("command", [c for c in WRITERS if c not in ("forecast", "plot")])
def test_an_existing_output_is_refused_without_force(tmp_path, capsys, results_dir, experiment,
                                                     command):  # fmt: skip
    """The one overwrite rule, for every command that writes (a new one joins WRITERS)."""
    out = tmp_path / "out"
    argv = [a.replace("OUT", str(out)) if "OUT" in a else a for a in WRITERS[command]]
    argv = [{"RESULTS": str(results_dir), "EXP": str(experiment)}.get(a, a) for a in argv]
    target = Path(next(a for a in argv if str(out) in a))
    if command == "levers":
        target = target.with_suffix(".svg")  # a figure stem: PNG and SVG
    if target.suffix:
        target.write_text("mine")
    else:
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "exists" in err, err[-2000:]
    assert (target if target.suffix else target / "mine.txt").read_text() == "mine"


def test_scheduler_that_is_not_an_address_is_one_line(tmp_path, capsys, experiment):
    out = tmp_path / "o"
    code = main(["sweep", str(experiment), "--out", str(out), "--scheduler", "not a url"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err[-2000:]
    assert err.startswith("sim sweep: error: --scheduler: not a Dask scheduler address")
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# Output into a pipe whose reader has gone (`sim ... | head`) ends quietly


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(BASELINE), "--list-parameters"],
        ["evidence"],
        ["blocs", str(BASELINE)],
    ],
    ids=lambda v: " ".join(v[:1] + v[2:]),
)
def test_closed_pipe_ends_quietly(argv):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, as `head` is after its lines
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141  # what a program stopped by SIGPIPE reports
