"""Fast, browser-free tests of the explorer: slider specs, components, same model as `sim run`."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sim.commands import explore
from sim.errors import SimInputError
from sim.model import AllianceModel
from sim.report import viz
from tests.conftest import BASELINE, ROOT


def _same(a: AllianceModel, b: AllianceModel) -> None:
    ta, tb = a.trajectory(), b.trajectory()
    np.testing.assert_array_equal(ta.alignment, tb.alignment)
    np.testing.assert_array_equal(ta.actions, tb.actions)
    np.testing.assert_array_equal(ta.fired, tb.fired)


def test_model_params_cover_key_sliders_and_seed():
    params = viz.model_params(BASELINE)
    assert params["scenario"] == str(BASELINE)
    assert params["seed"]["type"] == "InputText"
    values = viz.load(BASELINE).parameters()
    for name in viz.KEY_PARAMETERS:
        spec = params[name]
        assert spec["type"] == "SliderFloat"
        assert spec["min"] <= spec["value"] == values[name] <= spec["max"]
        assert 0 < spec["step"] < spec["max"] - spec["min"]
    assert -1.0 <= params["alignment.iran.russia"]["min"]
    assert params["events.western_offer.hazard"]["max"] <= 0.2


def test_slider_ranges_fall_back_without_evidence(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sim.scenario.evidence", None)  # import fails
    ranges = viz.slider_ranges(BASELINE, viz.KEY_PARAMETERS)
    assert ranges["alignment.iran.russia"] == (-1.0, 1.0)
    assert ranges["actors.iran.weights.trust"] == (0.0, 1.0)
    assert ranges["events.unsc_crisis.hazard"] == (0.0, viz.HAZARD_MAX)


def test_fallback_ranges_by_scale():
    assert viz.fallback_range("alignment.iran.russia", 0.45) == (-1.0, 1.0)
    assert viz.fallback_range("actors.iran.position.nuclear", 0.2) == (-1.0, 1.0)
    assert viz.fallback_range("actors.iran.weights.trust", 0.5) == (0.0, 1.0)
    assert viz.fallback_range("events.x.hazard", 0.5) == (0.0, 0.5)
    assert viz.fallback_range("actors.iran.weights.trust", 1.5) == (0.0, 1.5)


def test_page_model_equals_alliance_model_at_defaults():
    page_model = viz.ExploreModel(**viz.initial_kwargs(viz.model_params(BASELINE)))
    direct = AllianceModel(BASELINE, seed=0)
    for _ in range(24):
        page_model.step()
        direct.step()
    _same(page_model, direct)
    assert [a.action for a in page_model.actor_agents] == [a.action for a in direct.actor_agents]


def test_page_model_equals_alliance_model_with_moved_sliders():
    kwargs = viz.initial_kwargs(viz.model_params(BASELINE))
    moved = {"actors.russia.salience.ukraine": 1.0, "events.western_offer.hazard": 0.2}
    page_model = viz.ExploreModel(**{**kwargs, **moved, "seed": "7"})
    direct = AllianceModel(BASELINE, seed=7, **moved)
    for _ in range(30):
        page_model.step()
        direct.step()
    _same(page_model, direct)


def test_mesa_accepts_the_constructor():
    pytest.importorskip("solara")
    from mesa.visualization.solara_viz import _check_model_params

    _check_model_params(viz.ExploreModel.__init__, viz.model_params(BASELINE))


def test_seed_text():
    assert viz.parse_seed(" 12 ") == 12
    assert viz.parse_seed("") == 0
    with pytest.raises(SimInputError, match="seed"):
        viz.parse_seed("abc")
    with pytest.raises(SimInputError):
        viz.parse_seed(-3)


def test_figures_and_status_follow_the_model():
    model = viz.ExploreModel(
        BASELINE,
        seed=0,
        **{"actors.russia.salience.ukraine": 1.0, "events.western_offer.hazard": 0.2},
    )
    assert "Month 0 of 120" in viz.status_markdown(model)
    for _ in range(12):
        model.step()
    text = viz.status_markdown(model)
    assert "Month 12 of 120 (2016-11)" in text
    b, action, _ = model.params.betrayal
    expected = [m + 1 for m, a in enumerate(model.trajectory().actions[0]) if a[b] == action]
    assert viz.betrayal_months(model) == expected
    assert ("betrayed" in text) == bool(expected)
    for make in (viz.graph_figure, viz.dyads_figure, viz.actions_figure):
        assert make(model).axes


def test_components_build():
    pytest.importorskip("solara")
    parts = viz.components()
    assert len(parts) == 5
    assert all(page == 0 for _, page in parts)
    assert callable(viz.make_page(BASELINE))


# --- the command ---------------------------------------------------------------------------


def test_missing_solara_gives_install_hint(monkeypatch):
    monkeypatch.setattr(explore.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SimInputError, match=r'pip install "sim\[viz\]"'):
        explore.check_viz_installed()


def test_missing_networkx_is_named_before_mesa_fails_on_it(monkeypatch):
    real = explore.importlib.util.find_spec
    monkeypatch.setattr(
        explore.importlib.util, "find_spec", lambda n: None if n == "networkx" else real(n)
    )
    with pytest.raises(SimInputError, match=r"networkx.*sim\[viz\]"):
        explore.check_viz_installed()


def test_sliders_show_their_values_and_the_server_is_quiet(monkeypatch):
    moved = {"actors.russia.salience.ukraine": 0.95}
    kwargs = viz.initial_kwargs(viz.model_params(BASELINE))
    model = viz.ExploreModel(**{**kwargs, **moved})
    text = viz.status_markdown(model)
    label = viz.slider_label("actors.russia.salience.ukraine", model.scenario)
    assert f"- {label}: 0.95" in text
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    assert "ignore::UserWarning" in explore.server_env(BASELINE)["PYTHONWARNINGS"]


def test_incompatible_ipyvuetify_is_refused(monkeypatch):
    pytest.importorskip("solara")
    real = explore._version
    monkeypatch.setattr(explore, "_version", lambda d: "3.1.0" if d == "ipyvuetify" else real(d))
    with pytest.raises(SimInputError, match=r"ipyvuetify.*sim\[viz\]"):
        explore.check_viz_installed()


# --------------------------------------------------------------------------------------------
# The server never outlives `sim explore` (real processes, real signals)

START_TIMEOUT = 90.0  # solara's first start imports a lot on a busy 2-core machine
GONE_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid``, read from /proc."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class Explore:
    """A real `python -m sim explore` process, its server and its output files."""

    proc: subprocess.Popen
    port: int
    out: Path
    err: Path
    server: int = 0


def _start_explores(tmp_path: Path, n: int) -> list[Explore]:
    """Start ``n`` real `python -m sim explore` at once (the starts overlap: faster on a shared
    machine); return them once each one's server answers.
    """
    runs = []
    for k in range(n):
        out, err, port = tmp_path / f"out{k}.txt", tmp_path / f"err{k}.txt", _free_port()
        with open(out, "w") as o, open(err, "w") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sim", "explore", str(BASELINE), "--port", str(port)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=o,
                stderr=e,
                start_new_session=True,  # our signals go to it alone, never to pytest
                # as from an interactive shell, even if these tests run where SIGINT is ignored
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        runs.append(Explore(proc, port, out, err))
    deadline = time.monotonic() + START_TIMEOUT
    try:
        for run in runs:
            while not (_children(run.proc.pid) and _serves(run.port)):
                assert run.proc.poll() is None, run.err.read_text()[-2000:]
                assert time.monotonic() < deadline, run.err.read_text()[-2000:]
                time.sleep(0.5)
            (run.server,) = _children(run.proc.pid)
    except BaseException:
        _clean_up(runs)
        raise
    return runs


def _clean_up(runs: list[Explore]) -> None:
    """After a failure: kill exactly the processes these tests started, by pid."""
    for run in runs:
        for pid in [run.proc.pid, *_children(run.proc.pid), run.server]:
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        run.proc.wait(timeout=30)


def _wait_gone(pid: int, timeout: float = GONE_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


# SIGTERM (kill, a service manager), SIGHUP (the terminal closed), SIGINT (Ctrl-C) run
# `sim explore`'s handlers; SIGKILL runs none, and the kernel's parent-death signal
# (PR_SET_PDEATHSIG, Linux) stops the server.
SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL)


def test_server_never_outlives_sim_explore(tmp_path):
    pytest.importorskip("solara")
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc; the SIGKILL fallback is Linux only")
    runs = _start_explores(tmp_path, len(SIGNALS))
    pairs = list(zip(runs, SIGNALS, strict=True))
    try:
        for run in runs:  # the server got the scenario through its environment
            environ = Path(f"/proc/{run.server}/environ").read_bytes().split(b"\0")
            assert f"{viz.SCENARIO_ENV}={BASELINE.resolve()}".encode() in environ
        for run, sig in pairs:
            if sig == signal.SIGINT:  # a terminal's Ctrl-C: to the foreground process group
                os.killpg(run.proc.pid, sig)
            else:  # to `sim explore` alone, as `kill` or the shell of a closing terminal does
                os.kill(run.proc.pid, sig)
        codes = {sig.name: run.proc.wait(timeout=GONE_TIMEOUT) for run, sig in pairs}
        left = [sig.name for run, sig in pairs if not _wait_gone(run.server)]
    finally:
        _clean_up(runs)
    assert not left, f"the server outlived `sim explore` stopped by {left}"
    assert codes == {"SIGTERM": 0, "SIGHUP": 0, "SIGINT": 0, "SIGKILL": -signal.SIGKILL}
    for run, sig in pairs:
        assert f"http://127.0.0.1:{run.port}/" in run.out.read_text()
        if sig != signal.SIGKILL:
            assert "sim explore: stopped" in run.err.read_text(), sig.name
        assert not _serves(run.port), sig.name


def test_explore_rejects_bad_input():
    from sim.commands import cli

    assert cli.main(["explore", "no/such/scenario.toml", "--port", "8799"]) == 2
    assert cli.main(["explore", "--port", "70000"]) == 2


def test_page_model_is_replicate_zero_of_sim_run():
    from sim import api

    res = api.simulate(BASELINE, replicates=2, seed=3, months=24)
    model = viz.ExploreModel(BASELINE, seed="3", months=24)
    while model.running:
        model.step()
    series = res.series[res.series.replicate == 0].sort_values("month")
    traj = model.trajectory()
    for k, (i, j) in enumerate(traj.pairs):
        a, b = res.params.actors[i], res.params.actors[j]
        np.testing.assert_allclose(series[f"alignment__{a}__{b}"], traj.alignment[0, :, k])
