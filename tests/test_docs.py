"""Docs that run: every fenced block in README.md and docs/*.md is executed here, or is marked
as not run with a reason (Sybil's ``<!-- skip: next "reason" -->``), or is a ``text`` block
(output, layouts, diagrams).

Sybil parses the Markdown and keeps one namespace per document, so a document's Python blocks
build on one another as a reader would run them. Shell blocks (``bash``, ``sh``, ``console``)
may hold only ``sim`` commands, run through the CLI's ``main``; ``toml`` and ``csv`` blocks must
parse. Every document runs in its own empty folder that sees the checkout's scenarios,
experiments, backtests, calibrations and forecasts, so examples write nowhere in the checkout.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import tomllib
import unittest
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

from sim.commands.cli import main
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHARED = ("scenarios", "experiments", "backtests", "calibrations", "forecasts", "data")
RUN = {"python", "bash", "sh", "console", "toml", "csv"}
NOT_CODE = {"text"}
FENCE = re.compile(r"^```(\S*)", re.M)


def sim_commands(source: str, console: bool) -> list[list[str]]:
    """The ``sim`` commands of a shell block (a console block: its ``$`` lines), split."""
    text = source.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if console:
            if not line.startswith("$ "):
                continue
            line = line[2:]
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split(" && "):
            words = shlex.split(part)
            if words[0] != "sim":
                raise AssertionError(f"not a sim command (mark the block as not run): {part}")
            found.append(words[1:])
    return found


def _shell(console: bool):
    def evaluate(example) -> None:
        for words in sim_commands(example.parsed, console):
            assert main(words) == 0, f"sim {' '.join(words)} failed"

    return evaluate


def _toml(example) -> None:
    tomllib.loads(example.parsed)


def _csv(example) -> None:
    assert len(list(csv.reader(io.StringIO(example.parsed)))) > 1


SYBIL = Sybil(
    parsers=[
        PythonCodeBlockParser(),
        CodeBlockParser("bash", _shell(False)),
        CodeBlockParser("sh", _shell(False)),
        CodeBlockParser("console", _shell(True)),
        CodeBlockParser("toml", _toml),
        CodeBlockParser("csv", _csv),
        SkipParser(),
    ]
)


def _workdir(tmp_path: Path) -> Path:
    for name in SHARED:
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "docs" / "img").mkdir(parents=True)  # figures examples write, not the real ones
    return tmp_path


def test_every_block_is_run_or_says_why_not():
    untagged = []
    for path in DOCS:
        text = path.read_text()
        fences = FENCE.findall(text)
        for lang in fences[::2]:  # opening fences; closing ones alternate with them
            if lang not in RUN | NOT_CODE:
                untagged.append(f"{path.name}: ```{lang}")
        for reason in re.findall(r"<!-- skip: next(.*?)-->", text):
            assert reason.strip().startswith('"'), f"{path.name}: a skip needs a reason"
    assert not untagged, f"blocks neither run nor marked as text: {untagged}"


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_doc_blocks_run(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_workdir(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    document = SYBIL.parse(path)
    ran = 0
    for example in document:
        try:
            example.evaluate()
        except unittest.SkipTest:
            continue
        ran += 1
    capsys.readouterr()
    assert ran >= 0


def test_backtest_doc_commands_do_not_collide(tmp_path, monkeypatch, capsys):
    """docs/backtest.md's backtests, small: each writes its own results directory."""
    monkeypatch.chdir(_workdir(tmp_path))
    block = (ROOT / "docs" / "backtest.md").read_text().split("```bash\n", 1)[1].split("```")[0]
    backtests = [w for w in sim_commands(block, False) if w[0] == "backtest"]
    assert len(backtests) == 3
    for words in backtests:
        assert main([*words, "--replicates", "40", "--no-figures"]) == 0, words
    capsys.readouterr()
    assert len(list((tmp_path / "results").iterdir())) == 3


def test_a_backtest_into_an_existing_folder_is_refused_before_simulating(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "x").write_text("")
    events = str(ROOT / "backtests" / "history_2015_2025" / "events.toml")
    # 200,000 replicates (within the size limit) would take many minutes: the refusal of the
    # occupied folder must come first.
    assert main(["backtest", events, "--replicates", str(200_000), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_sim_commands_of_a_console_block_are_its_dollar_lines():
    assert sim_commands("$ sim run -n 2  # small\noutput line\n", True) == [["run", "-n", "2"]]
    with pytest.raises(AssertionError, match="not a sim command"):
        sim_commands("pip install x", False)
