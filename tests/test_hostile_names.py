"""Property: a hostile name in any named section of any input file writes and deletes nothing
outside the results folder, and leaves the forecast ledger parsing to the rows the tool wrote.

Each example copies the shipped inputs into a fresh folder with sentinels around the results
folder (a user file, a dot-folder, an existing results folder), puts a hostile name (``/``,
``..``, NUL, a newline, ``|``, 300 characters, non-ASCII) in one section and runs the command
that reads that file, with ``--force``.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.commands.cli import main
from sim.validation.forecast import ledger

from .conftest import ROOT

HOSTILE = ["/", "../", "..", "\x00", "\n", "|", "x" * 300, "é", "名", " ", ".", "-", "\\"]


@st.composite
def hostile_names(draw):
    """A name that holds at least one hostile fragment, anywhere in it."""
    fragment = draw(st.sampled_from(HOSTILE))
    plain = draw(st.text(alphabet="abc_", max_size=4))
    where = draw(st.sampled_from(["prefix", "suffix", "alone"]))
    return {"prefix": fragment + plain, "suffix": plain + fragment, "alone": fragment}[where]


def toml_string(name: str) -> str:
    """``name`` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(name)


# (file, the text to replace, its replacement with NAME for the hostile name)
SECTIONS = [
    ("scenario", 'name = "baseline"', "name = NAME"),
    ("scenario", "[issues.nuclear]", "[issues.NAME]"),
    ("scenario", "[actors.gulf]", "[actors.NAME]"),
    ("scenario", "[actors.iran.actions.hedge]", "[actors.iran.actions.NAME]"),
    ("scenario", "[deals.syria_for_ukraine]", "[deals.NAME]"),
    ("scenario", "[outcomes.betrayal]", "[outcomes.NAME]"),
    ("scenario", "[events.western_offer]", "[events.NAME]"),
    ("history", "[regimes.gaza_war]", "[regimes.NAME]"),
    ("experiment", 'name = "betrayal_sweep"', "name = NAME"),
    ("events", 'name = "history_2015_2025"', "name = NAME"),
    ("events", "[events.iran_us_2018_2019]", "[events.NAME]"),
    ("questions", 'name = "outlook_2026_2030"', "name = NAME"),
    ("questions", "[questions.russia_trades_iran_2030]", "[questions.NAME]"),
]


def snapshot(root: Path, skip: Path) -> dict[str, object]:
    """Every entry under ``root`` but ``skip``: its bytes, "dir" or its link target."""
    out = {}
    for base, dirs, files in os.walk(root):
        here = Path(base)
        dirs[:] = [d for d in dirs if here / d != skip]
        for name in [*dirs, *files]:
            p = here / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out


_TEMPLATE: list[Path] = []


def prepare(root: Path) -> dict[str, Path]:
    """Inputs, sentinels and an existing results folder under ``root`` (copied from one
    template made on first use: a real run is the slow part).
    """
    if not _TEMPLATE:
        _TEMPLATE.append(_make_template(Path(tempfile.mkdtemp(prefix="sim-hostile-"))))
    shutil.copytree(_TEMPLATE[0], root, symlinks=True, dirs_exist_ok=True)
    work = root / "work"
    return {
        "work": work,
        "inputs": work / "inputs",
        "book": work / "forecasts" / "LEDGER.md",
        "out": work / "out",
    }


def _make_template(root: Path) -> Path:
    work = root / "work"
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "thesis.txt").write_text("years of work")
    inputs = work / "inputs"
    inputs.mkdir(parents=True)
    scenarios = ROOT / "scenarios"
    for name in ("baseline", "history_2015_2025"):
        (inputs / f"{name}.toml").write_text((scenarios / f"{name}.toml").read_text())
    # Inputs name each other relative to themselves, so a copy is self-contained.
    for src, dst, old, new in (
        ("experiments/betrayal_sweep.toml", "experiment.toml", "../scenarios/baseline.toml",
         "baseline.toml"),
        ("backtests/history_2015_2025/events.toml", "events.toml",
         "../../scenarios/history_2015_2025.toml", "history_2015_2025.toml"),
        ("forecasts/questions/outlook_2026_2030.toml", "questions.toml",
         "../../scenarios/history_2015_2025.toml", "history_2015_2025.toml"),
    ):  # fmt: skip
        text = (ROOT / src).read_text()
        assert f'"{old}"' in text
        (inputs / dst).write_text(text.replace(f'"{old}"', f'"{new}"'))
    # The ledger holds one row the tool wrote; it must still parse to exactly that row.
    book = work / "forecasts" / "LEDGER.md"
    (book.parent / "records").mkdir(parents=True)
    (book.parent / "records" / "seeded.json").write_text("{}\n")
    ledger.append(book, book.parent / "records" / "seeded.json", "2026-01-01T00:00:00+00:00")
    assert main(["run", str(inputs / "baseline.toml"), "-n", "2", "--months", "2",
                 "--no-figures", "--out", str(work / "out")]) == 0  # fmt: skip
    return root


def command(kind: str, paths: dict[str, Path]) -> list[str]:
    inputs, out = paths["inputs"], str(paths["out"])
    few = ["-n", "2"]
    return {
        "scenario": ["run", str(inputs / "baseline.toml"), *few, "--months", "2", "--out", out],
        "history": ["run", str(inputs / "history_2015_2025.toml"), *few, "--months", "2",
                    "--out", out],
        "experiment": ["sweep", str(inputs / "experiment.toml"), "--out", out],
        "events": ["backtest", str(inputs / "events.toml"), *few, "--out", out],
        "questions": ["forecast", str(inputs / "questions.toml"), "--seal", "--ledger",
                      str(paths["book"])],
    }[kind] + (["--force"] if kind != "questions" else [])  # fmt: skip


FILES = {
    "scenario": "baseline.toml",
    "history": "history_2015_2025.toml",
    "experiment": "experiment.toml",
    "events": "events.toml",
    "questions": "questions.toml",
}


@pytest.mark.parametrize("kind, old, new", SECTIONS, ids=[f"{k}:{o}" for k, o, _ in SECTIONS])
@settings(max_examples=5)
@given(name=hostile_names())
def test_a_hostile_name_writes_nothing_outside_the_results_folder(kind, old, new, name):
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sentinel"
        root.mkdir()
        paths = prepare(root)
        target = paths["inputs"] / FILES[kind]
        text = target.read_text()
        assert "\n" + old in text
        key = toml_string(name)
        target.write_text(text.replace("\n" + old, "\n" + new.replace("NAME", key), 1))
        before = snapshot(root, paths["out"])
        rows = ledger.rows(paths["book"])
        os.chdir(paths["work"])
        try:
            code = main(command(kind, paths))
        finally:
            os.chdir(here)
        assert code == 2  # refused as bad input, in one line
        assert snapshot(root, paths["out"]) == before
        assert (paths["out"] / "runs.parquet").exists()  # the results folder is kept
        assert ledger.rows(paths["book"]) == rows and len(rows) == 1
        assert not Path("/tmp/abs").exists()
