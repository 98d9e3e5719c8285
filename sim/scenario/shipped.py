"""Files the tool ships beside its code: the scenarios, their evidence tables and data folders.

In a source checkout these are top-level folders (``scenarios/``, ``data/``), where users also
reach them by path (``sim run scenarios/baseline.toml``). A wheel can only install files inside
its packages, so the build step in ``setup.py`` copies the same folders into the package as
``sim/_shipped/`` (a copy made at build time, so git holds each file once). `path` finds a
shipped file in either layout: the installed copy when there is one, else the checkout's folder.

The package must be installed as files (as pip installs a wheel), not imported from a zip.
"""

from __future__ import annotations

from pathlib import Path

# The top-level folders a wheel ships; setup.py reads these two constants. A missing optional
# folder (data/, until a data set is added) is skipped; a missing required one fails the build,
# so a wheel can never silently lack the scenarios.
FOLDERS = ("scenarios", "data")
REQUIRED = ("scenarios",)
# Where the build puts them, inside the `sim` package.
PACKAGE_DIR = "_shipped"

_PACKAGE = Path(__file__).resolve().parents[1]


def root() -> Path:
    """The folder that holds the shipped folders.

    ``sim/_shipped`` in an installed wheel; the checkout (the folder holding the `sim` package)
    when running from source or from an editable install.
    """
    installed = _PACKAGE / PACKAGE_DIR
    return installed if installed.is_dir() else _PACKAGE.parent


def path(*parts: str) -> Path:
    """A shipped file or folder by its path under the checkout, e.g. ``path("scenarios",
    "baseline.toml")``. The path is returned whether or not it exists.
    """
    return root().joinpath(*parts)
