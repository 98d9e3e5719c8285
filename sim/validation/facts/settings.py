"""Defaults of a validation run, kept apart so the CLI can show them without loading numpy."""

DEFAULT_REPLICATES = 2000
DEFAULT_SEED = 20151123  # the Tehran meeting, 23 November 2015
