"""`sim explore [SCENARIO]`: explore a scenario in the browser with Mesa's SolaraViz.

Starts ``solara run sim/viz_app.py`` on localhost as a child process, passing the scenario
through the ``SIM_EXPLORE_SCENARIO`` environment variable, prints the address and waits;
Ctrl-C stops the server and returns cleanly.

The server never outlives `sim explore`: SIGTERM and SIGHUP (a closed terminal) stop it like
Ctrl-C, and on Linux the kernel kills it if `sim explore` itself dies without a chance to clean
up (SIGKILL, a crash), through ``PR_SET_PDEATHSIG``.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.metadata
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sim import signals
from sim.errors import SimInputError

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
APP = Path(__file__).resolve().parents[1] / "report" / "viz_app.py"
# The `viz` extra pins what Mesa 3.3's SolaraViz needs (ipyvuetify 1.x, networkx, assets), so
# one command installs a working set; from a checkout: pip install -e ".[viz]".
INSTALL_HINT = 'pip install "sim[viz]"  (from a checkout: pip install -e ".[viz]")'
# Warnings the server's libraries print at import and on every page load (Solara's hook
# checks, deprecations): noise to a user of the page; PYTHONWARNINGS set by the user wins.
QUIET_WARNINGS = "ignore::UserWarning,ignore::DeprecationWarning,ignore::FutureWarning"
STOP_TIMEOUT = 10.0
# Signals that stop `sim explore` (and so its server) besides Ctrl-C: SIGTERM from kill or a
# service manager, SIGHUP when the terminal closes (the server, in its own session, gets none).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `explore` subcommand."""
    p = sub.add_parser(
        "explore",
        help="explore a scenario interactively in the browser",
        description="Serve an interactive page (Mesa SolaraViz) with sliders for the scenario's "
        "key parameters, the actor graph and time series; stepping runs the same model as "
        "`sim run`. Ctrl-C stops the server.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="scenario file (TOML); default scenarios/baseline.toml",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    p.set_defaults(func=run)


def check_viz_installed() -> None:
    """Raise a clear input error when the browser dependencies are missing or incompatible."""
    missing = [m for m in ("solara", "altair", "networkx") if importlib.util.find_spec(m) is None]
    if missing:
        those = "which is" if len(missing) == 1 else "which are"
        raise SimInputError(
            f"the browser explorer needs {' and '.join(missing)}, {those} not installed",
            field="explore",
            allowed=INSTALL_HINT,
        )
    vuetify = _version("ipyvuetify")
    if vuetify and int(vuetify.split(".")[0]) >= 2:
        raise SimInputError(
            "Mesa 3.3's SolaraViz needs ipyvuetify 1.x (its pages fail with 2.x or later)",
            field="explore",
            found=f"ipyvuetify {vuetify}",
            allowed=INSTALL_HINT,
        )
    solara = _version("solara")
    if solara and _version("solara-assets") != solara:
        print(
            "sim explore: note: solara-assets is not installed for this solara, so the page "
            f"loads its scripts from a CDN; offline: pip install 'solara-assets=={solara}'",
            file=sys.stderr,
        )


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def server_command(port: int, host: str) -> list[str]:
    """Return the command line that serves the explorer app."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--port",
        str(port),
        "--host",
        host,
        "--production",
        "--no-open",
        "--no-check-version",  # no call to pypi.org: the explorer stays on localhost
    ]


def server_env(scenario_path: Path) -> dict[str, str]:
    """Return the server's environment: ours plus the scenario path."""
    from sim.report.viz import SCENARIO_ENV

    return {
        **os.environ,
        SCENARIO_ENV: str(scenario_path.resolve()),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # localhost only: no usage reports
        "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", QUIET_WARNINGS),
    }


class StopRequested(Exception):
    """Raised in the main thread when a stop signal arrives, so the server is shut down."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signum)


def die_with_parent() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that makes the child die when this process dies (Linux only).

    The child asks the kernel for SIGKILL on its parent's death (``PR_SET_PDEATHSIG``): the
    fallback for when this process is killed without running its handlers. SIGKILL rather than
    SIGTERM because no one is left to escalate if the server were slow to shut down.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return preexec


def run(args: argparse.Namespace) -> int:
    """Serve the explorer until Ctrl-C, SIGTERM or SIGHUP, or until the server exits."""
    from sim import scenario
    from sim.model import DEFAULT_SCENARIO

    if not 0 <= args.port <= 65535:
        raise SimInputError("must be a port number", field="--port", found=args.port)
    check_viz_installed()
    path = Path(args.scenario) if args.scenario else DEFAULT_SCENARIO
    sc = scenario.load(path)  # fail fast, with the scenario's own message
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, *STOP_SIGNALS)}
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stop)
    proc = None
    try:
        # own session: Ctrl-C and a closing terminal reach only us, and we shut the server down
        # in order; the kernel kills it if we die first
        proc = subprocess.Popen(
            server_command(args.port, args.host),
            env=server_env(path),
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        print(f"{sc.title}: exploring at http://{args.host}:{args.port}/  (Ctrl-C to stop)")
        sys.stdout.flush()
        return proc.wait()
    except (KeyboardInterrupt, StopRequested) as exc:
        # a second signal must not cut the shutdown short
        for sig in (signal.SIGINT, *STOP_SIGNALS):
            signal.signal(sig, signal.SIG_IGN)
        if proc is not None:
            stop(proc)
        how = f" ({exc})" if isinstance(exc, StopRequested) else ""
        print(f"sim explore: stopped{how}", file=sys.stderr)
        signals.forget()  # answered here: the server stopped, exit 0
        return 0
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be restored
                signal.signal(sig, handler)


def stop(proc: subprocess.Popen) -> None:
    """Stop the server: terminate (uvicorn shuts down gracefully), interrupt, then kill.

    Signals go to the server's whole process group when it leads one (as `run` starts it), so
    nothing the server started is left behind.
    """
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        if proc.poll() is not None:
            return
        _signal(proc, sig)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
            return
    except ProcessLookupError:  # exited meanwhile
        return
    proc.send_signal(sig)
