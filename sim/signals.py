"""Stop signals, in one place for every command: Ctrl-C, SIGTERM and SIGHUP all stop a command
the same way.

`stopping` (entered by `sim.commands.cli.main` around every command) turns SIGTERM (a service
manager, plain `kill`) and SIGHUP (the terminal closed) into `Stopped`, a `KeyboardInterrupt`,
in the main process, so whatever a command does on Ctrl-C (a sweep records "interrupted" in its
metadata, `sim run` removes its temporary folder, worker pools are shut down) it also does on
the other stop signals. The command line then prints one line and exits with 130 (Ctrl-C) or
128 + the signal's number (143 for SIGTERM, 129 for SIGHUP), as a shell reports a process
stopped by that signal.

Worker processes are the other half: `die_with_parent` (a pool's initializer) asks Linux to
stop a worker when the process that started it goes away, so a worker never outlives a sweep
killed with SIGKILL; and `quiet_worker` makes a worker ignore Ctrl-C, which the terminal sends
to the whole process group, so that only the parent answers it (one line, not one traceback
per worker). The module sits in the lowest layer, beside `sim.errors`, so that sweeps and
calibration can give it to their pools.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Signals that stop a command as Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Stopped(KeyboardInterrupt):
    """A command stopped by a signal other than SIGINT (the signal's number in ``signum``)."""

    def __init__(self, signum: int, text: str = "") -> None:
        super().__init__(text)
        self.signum = signum


def noted(exc: KeyboardInterrupt, text: str) -> KeyboardInterrupt:
    """The same interruption (same signal) carrying ``text``: what the command kept."""
    signum = getattr(exc, "signum", None)
    return Stopped(signum, text) if signum else KeyboardInterrupt(text)


def exit_status(exc: KeyboardInterrupt) -> int:
    """The exit status for an interruption: 130 for Ctrl-C, 128 + N for signal N."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


def signal_name(exc: KeyboardInterrupt) -> str:
    """``SIGTERM`` and the like for a `Stopped`, ``""`` for Ctrl-C."""
    signum = getattr(exc, "signum", None)
    return signal.Signals(signum).name if signum else ""


# The stop signal received while `stopping` is in force (None: none yet).
_received: int | None = None


def _interruption(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)


@contextmanager
def stopping() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Stopped` in this (main) process, Ctrl-C a
    `KeyboardInterrupt`, and every stop is remembered, so that `raise_if_stopped` can raise it
    again where a library swallowed it.
    """
    global _received
    _received = None
    owner = os.getpid()

    def handler(signum: int, frame: FrameType | None) -> None:
        global _received
        if os.getpid() != owner:
            # A forked child inherits the handler (until `die_with_parent` runs in it): Ctrl-C
            # is the parent's to answer; another stop ends the child as it would without one.
            if signum == signal.SIGINT:
                return
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        _received = signum
        raise _interruption(signum)

    try:
        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, *STOP_SIGNALS)}
    except ValueError:  # not the main thread (a command called from a worker thread)
        yield
        return
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
        _received = None  # answered by whoever leaves the block


def raise_if_stopped() -> None:
    """Raise the interruption again if a stop signal came (and something swallowed it).

    Called by the progress helper at every update and by the command line when a command
    returns, so an interrupted command never ends as if it had finished.
    """
    if _received is not None:
        raise _interruption(_received)


def forget() -> None:
    """A command that answers a stop signal itself (`sim explore` stops its server and exits
    0) says so: the stop is not raised again.
    """
    global _received
    _received = None


def quiet_forks() -> None:
    """Make every process this one forks from now on (pyabc's multicore workers) a quiet
    worker that dies with its parent (`die_with_parent`). Registered once per process.
    """
    global _forks_quiet
    if not _forks_quiet:
        os.register_at_fork(after_in_child=die_with_parent)
        _forks_quiet = True


_forks_quiet = False


def die_with_parent(parent: int | None = None) -> None:
    """In a worker process: end when the process that started the work ends, however it
    ends (even by SIGKILL), and leave Ctrl-C to it (`quiet_worker`).

    The direct parent is watched with Linux's ``PR_SET_PDEATHSIG``. A forkserver's workers are
    children of the forkserver, not of the command, and hold its lifeline open, so neither
    ends when the command dies: give ``parent`` (the command's pid) and a thread waits on it
    (a pidfd) and ends the worker when it exits; the forkserver and resource tracker then see
    their pipes close and end too.
    """
    quiet_worker()
    for signum in STOP_SIGNALS:  # not the parent's handlers, inherited through a fork
        signal.signal(signum, signal.SIG_DFL)
    if parent is not None:
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="sim-parent").start()
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent already went away before prctl took effect
        os._exit(1)


def _watch(pid: int) -> None:
    """End this process when process ``pid`` exits."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the process has exited
    else:
        while _exists(pid):
            time.sleep(1.0)
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def quiet_worker() -> None:
    """In a worker process: ignore Ctrl-C, so that only the parent answers it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
