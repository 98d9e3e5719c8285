"""The `sim` command line: one subcommand per module in `sim.commands`.

Exit status: 0 success, 2 bad input or usage, 1 internal failure, 130 interrupted (Ctrl-C;
143 SIGTERM, 129 SIGHUP: `sim.signals`), 141 when the reader of the output went away
(``sim run --list-parameters | head``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from sim import __version__, signals
from sim.errors import SimInputError

# Each name is a module in sim/commands exposing `register(subparsers)`; the module's parser
# sets `func(args) -> int`. Listed here so `sim --help` shows them in a sensible order.
COMMANDS = (
    "run",
    "evidence",
    "validate",
    "backtest",
    "evaluate",
    "forecast",
    "calibrate",
    "sweep",
    "plot",
    "report",
    "explain",
    "whatif",
    "game",
    "levers",
    "blocs",
    "explore",
)


# What bare `sim` prints: a usage line and where to look, not the whole help.
SHORT_USAGE = (
    "usage: sim COMMAND [options]  (sim run, sweep, calibrate, forecast, report, ...)\n"
    "`sim --help` lists the commands; `sim COMMAND --help` explains one."
)

# Exit status when stdout is a pipe whose reader closed it: what a program killed by SIGPIPE
# reports to the shell (128 + 13).
EXIT_BROKEN_PIPE = 141


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error of `sim`.

    Subparsers are made with the parent's class, so every subcommand inherits this.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``sim CMD: error: MESSAGE`` on stderr and exit with status 2 (no usage block)."""
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = Parser(
        prog="sim",
        description="Scenario simulation of Iran-Russia-US-Gulf alignment and a Russian "
        "betrayal of Iran in Syria.",
    )
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sim.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sim.commands.{name}":
                continue  # command not shipped in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            # name the subcommand whose options these are not: `sim run: error: ...`
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            sub.choices.get(args.command, parser).error(
                f"unrecognized arguments: {' '.join(extra)}"
            )
    except SystemExit as exc:  # --help, --version (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        print(SHORT_USAGE, file=sys.stderr)
        return 2
    try:
        with signals.stopping():  # SIGTERM and SIGHUP stop a command as Ctrl-C does
            status = int(args.func(args) or 0)
            signals.raise_if_stopped()  # a stop some library swallowed still stops
            return status
    except SimInputError as exc:
        print(f"sim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # A command that writes says what it kept by raising KeyboardInterrupt(text); other
        # interruptions claim nothing.
        name = signals.signal_name(exc)
        what = (f" ({name})" if name else "") + (f"; {exc}" if str(exc) else "")
        print(f"sim {args.command}: interrupted{what}", file=sys.stderr)
        return signals.exit_status(exc)


def entry() -> None:
    """Console-script entry point."""
    try:
        status = main()
        sys.stdout.flush()  # output still buffered can meet a closed pipe only here
    except BrokenPipeError:
        # The reader stopped reading (`| head`): end quietly. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not report the same broken pipe again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = EXIT_BROKEN_PIPE
    sys.exit(status)


if __name__ == "__main__":
    entry()
