"""`python -m sim` runs the command line."""

from sim.commands.cli import entry

entry()
