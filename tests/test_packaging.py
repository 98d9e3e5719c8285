"""Packaging: what a wheel ships, what each install command brings, and CI's test command.

The wheel test builds a real wheel from a copy of the checkout, installs it into a fresh
virtual environment (dependencies come from the system site-packages, so nothing is
downloaded but the build backend) and runs the tool from a folder outside the checkout.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim.scenario import BASELINE, shipped
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]

# Top-level folders of a checkout that are never part of a build (results, caches, builds).
_NOT_SOURCE_TOP = {".git", "build", "dist", "results", "runs", "out", ".venv"}
_NOT_SOURCE_ANY = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _dist(requirement: str) -> str:
    """The normalised distribution name of a requirement string."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[str]) -> set[str]:
    """The installed distributions these requirements bring in, with their own, transitively."""
    from packaging.requirements import Requirement

    seen: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = _dist(req.name)
        wanted = {(name, e) for e in {"", *req.extras}} - seen
        if not wanted:
            continue
        seen |= wanted
        try:
            subs = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for sub in map(Requirement, subs):
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for _, e in wanted):
                todo.append(sub)
    return {name for name, _ in seen} - {"sim"}


def _modules_of(dists: set[str]) -> set[str]:
    """Top-level import names provided by the installed distributions among ``dists``."""
    out = set()
    for module, owners in importlib.metadata.packages_distributions().items():
        if any(_dist(o) in dists for o in owners):
            out.add(module)
    return out


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def _two_commands() -> tuple[str, str]:
    """The README's main-job command and test command (the "Two commands" section)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    blocks = _bash_blocks(section)
    return blocks[0].strip(), blocks[-1].strip()


# --------------------------------------------------------------------------------------------
# Item 13: the shipped scenarios and data travel with the package


def test_shipped_files_are_found_in_the_checkout():
    assert shipped.root() == ROOT
    assert BASELINE == ROOT / "scenarios" / "baseline.toml"
    assert shipped.path("scenarios", "evidence", "baseline.toml").is_file()


def _copy_checkout(dest: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        top = _NOT_SOURCE_TOP if Path(folder) == ROOT else set()
        return {n for n in names if n in top or n in _NOT_SOURCE_ANY or n.endswith(".egg-info")}

    return Path(shutil.copytree(ROOT, dest, ignore=ignore))


def _build_wheel(source: Path, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        text = done.stdout + done.stderr
        if re.search(r"(No matching distribution|Could not find a version).*setuptools", text):
            pytest.skip("cannot build a wheel: the build backend (setuptools) is not reachable")
        raise AssertionError(f"building the wheel failed:\n{text[-3000:]}")
    (wheel,) = out.glob("sim-*.whl")
    return wheel


def _fresh_venv(venv: Path) -> Path:
    """A fresh virtual environment that sees the dependencies the running interpreter sees;
    return its Python.

    ``--system-site-packages`` only exposes the *base* interpreter's site-packages: when the
    suite itself runs in a virtual environment (the README's test command in a fresh venv),
    the dependencies live in that venv's site-packages, which a venv made from it does not
    see. A path file in the new venv adds them (as plain paths, so their own path files, such
    as an editable install of the checkout, are not run and cannot shadow the wheel).
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        timeout=120,
    )
    python = venv / "bin" / "python"
    own = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    seen = [p for p in _running_site_packages() if Path(p) != Path(own)]
    (Path(own) / "_outer_site_packages.pth").write_text("".join(f"{p}\n" for p in seen))
    return python


def _running_site_packages() -> list[str]:
    """The running interpreter's site-packages folders (a venv's own, then its base's)."""
    import site

    return [p for p in site.getsitepackages() if Path(p).is_dir()]


def test_a_fresh_venv_sees_every_site_packages_the_suite_sees(tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [str(python), "-c", "import sys, pandas; print('\\n'.join(sys.path))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    paths = {Path(p).resolve() for p in done.stdout.splitlines() if p}
    assert {Path(p).resolve() for p in _running_site_packages()} <= paths


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the wheel installed, and an empty folder to work in."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(_copy_checkout(base / "src"), base / "dist")
    python = _fresh_venv(base / "venv")
    work = base / "elsewhere"
    work.mkdir()
    # Nothing may point back at the checkout: no PYTHONPATH, and a working folder outside it
    # (pip would take a checkout's sim.egg-info for an installed sim of the same version).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    # The system's pip, run by the venv's interpreter, installs into the venv.
    install = ["install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)]
    subprocess.run(
        [str(python), "-m", "pip", *install],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return python, work, env


def _run(installed, *args: str) -> subprocess.CompletedProcess:
    python, work, env = installed
    # The first run in a fresh install compiles the numba kernel: minutes on a loaded machine.
    return subprocess.run(
        [str(python), *args], cwd=work, env=env, capture_output=True, text=True, timeout=900
    )


def test_wheel_holds_the_scenarios_and_their_evidence(installed):
    done = _run(installed, "-c", "import sim, sim.scenario as s; print(sim.__file__, s.BASELINE)")
    assert done.returncode == 0, done.stderr
    module, baseline = done.stdout.split()
    venv = installed[0].parent.parent
    assert Path(module).is_relative_to(venv), "the installed package must be the one imported"
    assert Path(baseline).is_relative_to(venv) and Path(baseline).is_file()
    names = {p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").rglob("*.toml")}
    shipped_root = Path(baseline).parents[1]
    assert {p.relative_to(shipped_root).as_posix() for p in shipped_root.rglob("*.toml")} == names


def test_installed_sim_evidence_works_outside_the_checkout(installed):
    done = _run(installed, "-m", "sim", "evidence")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Evidence for Baseline")
    assert "salience.ukraine" in done.stdout


def test_installed_sim_run_uses_the_shipped_baseline(installed):
    done = _run(installed, "-m", "sim", "run", "-n", "4", "--months", "6", "--no-figures")
    assert done.returncode == 0, done.stderr
    assert (installed[1] / "results" / "baseline-seed0" / "runs.parquet").is_file()


def test_installed_model_and_experiments_find_the_shipped_files(installed, tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(
        '[experiment]\nname = "t"\nscenario = "scenarios/betrayal_in_syria.toml"\nseed = 1\n'
        'replicates = 2\n[design]\nmethod = "lhs"\npoints = 4\n'
        '[parameters]\n"actors.russia.salience.ukraine" = { range = "evidence" }\n'
    )
    code = (
        "from sim.model import AllianceModel\n"
        "from sim.sweeps.experiment import load_experiment\n"
        "m = AllianceModel(); m.step()\n"
        f"e = load_experiment({str(exp)!r})\n"
        "print(e.scenario.name, e.parameters[0].low, e.parameters[0].high)\n"
    )
    done = _run(installed, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["betrayal_in_syria", "0.6", "1.0"]


# --------------------------------------------------------------------------------------------
# Item 18: each install command brings what its job needs


def test_readme_main_command_installs_only_what_running_needs():
    main, _ = _two_commands()
    install, _, job = main.partition(" && ")
    assert install == "python -m pip install -e ."
    assert job.startswith("sim run scenarios/baseline.toml")


def test_ci_runs_the_readme_test_command_exactly():
    _, test = _two_commands()
    assert test == 'python -m pip install -e ".[test]" && python -m pytest -q'
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def test_readme_says_the_browser_test_needs_debian_chromium():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    assert "apt-get install chromium" in section and "skipped" in section


def test_test_extra_brings_every_extra_the_tests_use():
    (own,) = [r for r in EXTRAS["test"] if _dist(r) == "sim"]
    pulled = set(re.search(r"\[(.*)\]", own).group(1).split(","))
    assert pulled == set(EXTRAS) - {"test", "all"}


def _imported_modules(package: Path) -> set[str]:
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


# Core dependencies that the package uses without importing them by name.
INDIRECT = {"pyarrow": "pandas writes and reads the Parquet results through it"}


def test_every_core_dependency_is_used_by_the_package():
    used = set()
    owners = importlib.metadata.packages_distributions()
    for module in _imported_modules(ROOT / "sim"):
        used |= {_dist(d) for d in owners.get(module, [])}
    unused = {_dist(r) for r in PROJECT["dependencies"]} - used - set(INDIRECT)
    assert not unused, f"core dependencies the package never imports: {sorted(unused)}"


BLOCKER = """
import runpy, sys
from importlib.abc import MetaPathFinder

BLOCKED = set(sys.argv[1].split(","))


class Blocker(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"blocked: {name} (an extra)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
from sim.model import AllianceModel

AllianceModel().step()
sys.argv = ["sim", *sys.argv[2:]]
runpy.run_module("sim", run_name="__main__", alter_sys=True)
"""


def test_sim_run_needs_nothing_from_the_extras(tmp_path):
    # Block every module that only the extras bring (with what they pull in), not the core.
    core = _closure(PROJECT["dependencies"])
    extra = _closure([r for reqs in EXTRAS.values() for r in reqs if _dist(r) != "sim"])
    blocked = _modules_of(extra - core) - _modules_of(core)
    out = tmp_path / "out"
    args = ["run", str(BASELINE), "-n", "4", "--months", "6", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(sorted(blocked)), *args],
        capture_output=True,
        text=True,
        timeout=900,  # may compile the kernel (a minute or more of CPU on a cold cache)
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "runs.parquet").is_file()
