"""Progress of long commands, in one place: what is happening and how far it has got.

Every long command (run, sweep, calibrate, validate, report, ...) shows its progress through
this module:

- `say` prints one line on stderr saying what starts now ("screening 40 candidates (Morris)
  ..."), on a terminal or in a log alike; `status` the same on a terminal only (backtest,
  forecast, whatif, explain, levers: commands whose output is their stdout);
- `bar` shows a tqdm bar on stderr **on a terminal only** (pipes and log files stay free of
  redraws) and yields a `Progress` whose ``update(n)`` is always safe to call;
- `stages` gives each stage of a multi-stage job its own bar.

Every update is also a point where a stop signal that a library swallowed is raised again
(`sim.signals.raise_if_stopped`), so Ctrl-C always stops a long command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sim import signals


def say(text: str) -> None:
    """One line on stderr saying what the command does now."""
    print(text, file=sys.stderr, flush=True)


def status(text: str) -> None:
    """Like `say`, on a terminal only: what a command that shows no bar is doing now."""
    if on_terminal():
        say(text)


def on_terminal() -> bool:
    """Whether progress is drawn (stderr is a terminal)."""
    return sys.stderr.isatty()


class Progress:
    """A progress bar that may not be drawn: ``update`` and ``start`` work either way."""

    def __init__(self, what: str, total: int | None, unit: str, draw: bool) -> None:
        self.what, self.unit, self.draw = what, unit, draw
        self._bar: Any = None
        if total is not None:
            self.start(total)

    def start(self, total: int, done: int = 0) -> Callable[[int], None]:
        """(Re)start the bar at ``done`` of ``total``; returns `update`."""
        if self.draw:
            from tqdm import tqdm

            if self._bar is not None:
                self._bar.close()
            self._bar = tqdm(
                total=total, initial=done, desc=self.what, unit=self.unit, file=sys.stderr
            )
        return self.update

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        signals.raise_if_stopped()
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Close the bar (left on screen)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def bar(what: str, total: int | None, unit: str, *, minimum: int = 0) -> Iterator[Progress]:
    """A `Progress` for ``total`` units (None: started later with ``start``), drawn on a
    terminal when ``total`` reaches ``minimum`` (short jobs stay quiet).
    """
    draw = on_terminal() and (total is None or total >= minimum)
    progress = Progress(what, total, unit, draw)
    try:
        yield progress
    finally:
        progress.close()


@contextmanager
def stages(unit: str) -> Iterator[Callable[[str, int, int], None]]:
    """Progress of work in stages: yields ``progress(stage, done, total)``; each stage gets
    its own bar, closed (and left on screen) when the stage is done.
    """
    draw = on_terminal()
    bars: dict[str, Progress] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = Progress(stage, total, unit, draw)
        current = bars[stage]
        shown = current._bar.n if current._bar is not None else 0
        current.update(done - shown)
        if done >= total:
            current.close()

    try:
        yield progress
    finally:
        for b in bars.values():
            b.close()


def generations(what: str) -> Callable[[int, int, int, int], None]:
    """Progress of a calibration, one line per generation redrawn in place (on a terminal
    only, as every bar).
    """
    draw = on_terminal()

    def show(t: int, accepted: int, n: int, evaluated: int) -> None:
        signals.raise_if_stopped()
        label = "prior sample" if t < 0 else f"generation {t}"
        if draw:
            end = "\n" if accepted >= n else ""
            print(f"\r{what}: {label}: {accepted}/{n} accepted of {evaluated}", end=end,
                  file=sys.stderr, flush=True)  # fmt: skip

    return show
