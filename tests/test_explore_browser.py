"""The explorer in a real headless Chromium: serve it, step it, watch the page change.

Skipped when /usr/bin/chromium, playwright or solara is missing. Set SIM_SAVE_SCREENSHOT=1 to
write the screenshot to docs/img/explore.png (otherwise it goes to the test's tmp_path).
"""

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.commands import explore
from sim.model import AllianceModel
from sim.report.viz import SCENARIO_ENV
from tests.conftest import BASELINE, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEPS = 3
START_TIMEOUT = 90.0

_missing = [
    reason
    for reason, ok in (
        ("/usr/bin/chromium not installed (apt-get install chromium)", CHROMIUM.exists()),
        (
            "playwright not installed (pip install playwright)",
            importlib.util.find_spec("playwright"),
        ),
        ("solara not installed (pip install solara)", importlib.util.find_spec("solara")),
    )
    if not ok
]
pytestmark = pytest.mark.skipif(bool(_missing), reason="; ".join(_missing))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    env = explore.server_env(BASELINE)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            explore.server_command(port, "127.0.0.1"), env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"solara server exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"solara server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        explore.stop(proc)


def _shrink(path: Path) -> None:
    """Re-save a screenshot as a 256-colour PNG (a few tens of kB, fine for docs)."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


def _open(page, url: str) -> None:
    """Load the page until the model's month counter shows (one reload if the kernel lags)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(2):
        page.goto(url, timeout=60_000)
        try:
            page.get_by_text("Month 0 of 120").wait_for(timeout=45_000)
            return
        except PlaywrightTimeout:
            if attempt:
                pytest.fail(f"explorer page did not render; body: {page.inner_text('body')[:1500]}")


def _images(page) -> list[str]:
    return page.locator("img").evaluate_all("els => els.map(e => e.src)")


def _month(page) -> int:
    text = page.inner_text("body")
    found = re.search(r"Month (\d+) of \d+", text)
    assert found, text[:2000]
    return int(found.group(1))


def test_step_in_browser_runs_the_same_model(server_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _open(page, server_url)
            page.wait_for_function("document.querySelectorAll('img').length >= 4", timeout=30_000)
            assert "Russia salience: ukraine" in page.inner_text("body")  # a slider
            before = _images(page)

            step = page.get_by_role("button", name="Step")
            for k in range(1, STEPS + 1):
                step.click()
                page.get_by_text(f"Month {k} of 120").wait_for(timeout=30_000)
            page.wait_for_function(
                "old => { const now = Array.from(document.querySelectorAll('img'), e => e.src);"
                " return now.length >= 4 && now.filter(s => old.includes(s)).length === 0; }",
                arg=before,
                timeout=30_000,
            )
            after = _images(page)
            assert _month(page) == STEPS
            text = page.inner_text("body")

            shot = tmp_path / "explore.png"
            if os.environ.get("SIM_SAVE_SCREENSHOT") == "1":
                shot = ROOT / "docs" / "img" / "explore.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))

            # reset rebuilds the model from the inputs: a new seed, back to month 0
            seed_box = page.get_by_label("Seed")
            seed_box.fill("5")
            seed_box.press("Enter")
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Month 0 of 120").wait_for(timeout=30_000)
            step.click()
            page.get_by_text("Month 1 of 120").wait_for(timeout=30_000)
            reseeded = page.inner_text("body")
        finally:
            browser.close()
    _shrink(shot)

    # the actor graph and the time series all re-rendered (no image survived the steps)
    assert len(after) >= 4 and not set(before) & set(after)
    assert 10_000 < shot.stat().st_size < 200_000
    # the page shows the actions AllianceModel takes for the same scenario and seed
    direct = AllianceModel(BASELINE, seed=0)
    for _ in range(STEPS):
        direct.step()
    _assert_actions_shown(direct, text)
    other = AllianceModel(BASELINE, seed=5)
    other.step()
    _assert_actions_shown(other, reseeded)


def _assert_actions_shown(model: AllianceModel, text: str) -> None:
    for agent in model.actor_agents:
        action = next(
            a for a in model.scenario.actor(agent.actor_id).actions if a.id == agent.action
        )
        assert f"{agent.label}: {action.label}" in text


def test_server_runs_with_the_scenario_env():
    env = explore.server_env(BASELINE)
    assert env[SCENARIO_ENV] == str(BASELINE.resolve())
    assert explore.server_command(1234, "127.0.0.1")[:4] == [sys.executable, "-m", "solara", "run"]
