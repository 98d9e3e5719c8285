"""The command line as a user meets it: help, exit codes, errors on stderr."""

import subprocess
import sys

import pytest

from sim.commands.cli import COMMANDS, build_parser, main


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
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
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
