"""`sim evidence [SCENARIO]`: the evidence table of a scenario, in the terminal or as Markdown.

Each number of the scenario is shown with its plausible range, the article's claims it rests
on (with their text) and one sentence of reasoning, grouped by actor, then issues, alignment,
trust, dynamics, betrayal, events, outcomes. ``--format markdown`` writes docs/evidence.md;
``--out FILE`` writes the Markdown to FILE (it implies ``--format markdown``, the only format
written to a file; ``--format text --out FILE`` is refused rather than ignored).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from sim.commands.common import add_force_argument, add_scenario_argument, check_out_file
from sim.errors import SimInputError
from sim.scenario import BASELINE, Scenario, claims, load
from sim.scenario.evidence import (
    Entry,
    check_evidence,
    evidence_path,
    group_title,
    grouped,
    require_evidence,
    scenario_evidence,
)

DEFAULT_SCENARIO = BASELINE
DEFAULT_MARKDOWN = Path("docs/evidence.md")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `evidence` subcommand."""
    p = sub.add_parser(
        "evidence",
        help="show where every number of a scenario comes from",
        description="Show each number of a scenario with its plausible range, the article's "
        "claims it rests on and the reasoning, grouped by actor, then issues, alignment, trust, "
        "dynamics, events and outcomes.",
    )
    add_scenario_argument(p, DEFAULT_SCENARIO)
    p.add_argument(
        "--format",
        choices=("text", "markdown"),
        default=None,
        help="text (terminal; the default without --out) or markdown (written to --out; the "
        "default with --out)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"write Markdown here (implies --format markdown; default {DEFAULT_MARKDOWN}; "
        "'-' for stdout)",
    )
    add_force_argument(p, "an existing --out file (e.g. to regenerate docs/evidence.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the evidence table."""
    fmt = output_format(args.format, args.out)
    out = args.out or DEFAULT_MARKDOWN
    if fmt == "markdown" and str(out) != "-":
        check_out_file(out, args.force, "--out")
    sc = load(args.scenario)
    entries = scenario_evidence(args.scenario, sc)
    own = evidence_path(args.scenario)
    if own.exists():
        require_evidence(sc, entries, str(own))
    else:
        entries = borrowed(sc, entries)
    if fmt == "text":
        sys.stdout.write(render_text(sc, entries))
        return 0
    text = render_markdown(sc, entries, display_path(own))
    if str(out) == "-":
        sys.stdout.write(text)
        return 0
    from sim import results

    results.check_file(out, args.force, "--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text, out)
    print(f"wrote {out} ({len(entries)} parameters)")
    return 0


def output_format(fmt: str | None, out: Path | None) -> str:
    """The format to write: ``--out`` implies Markdown, the only format written to a file."""
    if fmt == "text" and out is not None:
        raise SimInputError(
            "writes Markdown only; the text table is for the terminal",
            field="--out",
            found=str(out),
            allowed="--format markdown (or no --format) with --out; --format text without it",
        )
    return fmt or ("markdown" if out is not None else "text")


def borrowed(sc: Scenario, entries: list[Entry]) -> list[Entry]:
    """Baseline entries shown for a scenario without its own table.

    The scenario's value replaces the baseline's (the reason notes the baseline value); every
    mismatch (a number without evidence, a value outside the baseline range) is a warning on
    stderr, not an error: a variant may leave the evidence on purpose.
    """
    params = sc.parameters()
    out = []
    for e in entries:
        value = params[e.name]
        if value != e.value:
            note = f" (Baseline value {_num(e.value)}; this scenario departs from it.)"
            e = replace(e, value=value, reason=e.reason + note)
        out.append(e)
    for p in check_evidence(sc, out):
        print(f"sim evidence: warning: {sc.source}: {p}", file=sys.stderr)
    return out


def display_path(path: Path) -> str:
    """A stable, machine-independent display form: the last three path parts."""
    return "/".join(path.parts[-3:])


def _num(x: float) -> str:
    return f"{x:g}"


def _range(e: Entry) -> str:
    return "fixed" if e.fixed else f"[{_num(e.low)}, {_num(e.high)}]"


def _short(name: str, group: str) -> str:
    prefix = f"actors.{group}."
    return name[len(prefix) :] if name.startswith(prefix) else name


def render_text(sc: Scenario, entries: list[Entry], width: int = 100) -> str:
    """The evidence table for a terminal: one block per group, claim texts under each group."""
    lines = [f"Evidence for {sc.title} ({len(entries)} parameters)", ""]
    for group, items in grouped(sc, entries):
        title = group_title(sc, group)
        lines += [title, "=" * len(title)]
        names = [_short(e.name, group) for e in items]
        w = max(len(n) for n in names)
        cited: list[str] = []
        for name, e in zip(names, items, strict=True):
            cites = ", ".join(e.claims)
            lines.append(f"  {name:<{w}}  {_num(e.value):>6}  {_range(e):<14} {cites}")
            lines += textwrap.wrap(
                e.reason, width, initial_indent=" " * 6, subsequent_indent=" " * 6
            )
            cited += [c for c in e.claims if c not in cited]
        lines.append("")
        for c in sorted(cited, key=_claim_order):
            lines += textwrap.wrap(
                claims.describe(c), width, initial_indent="  ", subsequent_indent="      "
            )
        lines.append("")
    return "\n".join(lines)


def _claim_order(c: str) -> int:
    return int(c[1:]) if c in claims.BY_ID else 999


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(sc: Scenario, entries: list[Entry], source: str) -> str:
    """The evidence table as Markdown (docs/evidence.md is generated by this, never edited)."""
    out = [
        f"# Evidence: {sc.title}",
        "",
        f"<!-- Generated by `sim evidence --format markdown` from {source}; do not edit. -->",
        "",
        f"Every number of the `{sc.name}` scenario ({len(entries)} parameters), with a plausible "
        "range, the source article's claims it rests on (ids as in the table at the end) or "
        "`assumption`, and the reasoning. Sweeps draw from these ranges "
        "(`sim.scenario.evidence.evidence_ranges`); *fixed* marks a definition or design choice.",
        "",
    ]
    for group, items in grouped(sc, entries):
        out += [f"## {group_title(sc, group)}", ""]
        out += ["| parameter | value | range | claims | reason |", "|---|---:|---|---|---|"]
        for e in items:
            out.append(
                f"| `{_short(e.name, group)}` | {_num(e.value)} | {_range(e)} | "
                f"{', '.join(e.claims)} | {_cell(e.reason)} |"
            )
        out.append("")
    counts = {c.id: 0 for c in claims.CLAIMS}
    counts[claims.ASSUMPTION] = 0
    for e in entries:
        for c in e.claims:
            counts[c] += 1
    out += [
        "## The article's claims",
        "",
        "| id | section | claim (paraphrased) | parameters citing it |",
        "|---|---|---|---:|",
    ]
    out += [f"| {c.id} | {c.section} | {_cell(c.text)} | {counts[c.id]} |" for c in claims.CLAIMS]
    out += [
        f"| assumption | | a modelling choice the article does not speak to | "
        f"{counts[claims.ASSUMPTION]} |",
        "",
    ]
    return "\n".join(out)
