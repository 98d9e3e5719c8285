"""sim: scenario simulation of Iran-Russia-US-Gulf alignment and a Russian betrayal in Syria."""

__version__ = "0.1.0"


def _builtin_outcome_kinds() -> None:
    # The kinds are modules of the model stage; the scenario stage below it knows them only
    # through its registry, so the root package (no stage) wires them in, on first use.
    import sim.model.outcomes  # noqa: F401 - each kind module registers itself


def _wire() -> None:
    from sim.scenario import outcome_kinds

    outcome_kinds.add_loader(_builtin_outcome_kinds)


_wire()
