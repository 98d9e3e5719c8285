"""Build step: put the shipped top-level folders (scenarios/, data/) inside the wheel's package.

Everything else about the package is declared in pyproject.toml. A wheel installs only what
lies inside its packages, yet ``scenarios/`` must stay at the top of the checkout, where users
run ``sim run scenarios/baseline.toml``. So the build copies those folders to
``sim/_shipped/`` in the wheel, and `sim.scenario.shipped` finds them in either place; git keeps
one copy of each file. An editable install needs no copy: it reads the checkout's folders.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _shipped_module():
    """Load sim/scenario/shipped.py by path.

    The folder list lives there, once; importing the `sim` package at build time would need
    its dependencies.
    """
    spec = importlib.util.spec_from_file_location(
        "_sim_shipped", HERE / "sim" / "scenario" / "shipped.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithShippedFiles(build_py):
    """build_py that also copies the shipped folders into the built package."""

    def run(self) -> None:
        """Build the packages, then copy the shipped folders (not for an editable install)."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        shipped = _shipped_module()
        target = Path(self.build_lib) / "sim" / shipped.PACKAGE_DIR
        for folder in shipped.FOLDERS:
            source = HERE / folder
            if not source.is_dir():
                if folder in shipped.REQUIRED:
                    raise FileNotFoundError(f"{source}: a shipped folder is missing")
                continue
            shutil.copytree(
                source,
                target / folder,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildPyWithShippedFiles})
