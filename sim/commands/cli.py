"""The `sim` command line: one subcommand per module in `sim.commands`.

Exit status: 0 success, 2 bad input or usage, 1 internal failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sim import __version__
from sim.errors import SimInputError

# Each name is a module in sim/commands exposing `register(subparsers)`; the module's parser
# sets `func(args) -> int`. Listed here so `sim --help` shows them in a sensible order.
COMMANDS = (
    "run",
    "evidence",
    "validate",
    "sweep",
    "plot",
    "report",
    "explain",
    "whatif",
    "levers",
    "blocs",
    "explore",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except SimInputError as exc:
        print(f"sim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sim {args.command}: interrupted; finished work is kept", file=sys.stderr)
        return 130


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
