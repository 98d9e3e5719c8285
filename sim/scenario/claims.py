"""The source article's claims, numbered as in the project's domain notes (C1-C16).

Transcribed from DOMAIN.md: id, the article section it comes from (the article's own
headings; "intro" is the text before the first heading) and a short paraphrase. Evidence
tables and validation checks cite these ids; ``assumption`` marks a number the article does
not speak to.
"""

from __future__ import annotations

from dataclasses import dataclass

ASSUMPTION = "assumption"


@dataclass(frozen=True)
class Claim:
    """One numbered claim of the source article."""

    id: str
    section: str
    text: str


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1",
        "intro",
        "The Tehran meeting was rich in symbolism, but the visit is unlikely to "
        "lift relations qualitatively.",
    ),
    Claim(
        "C2",
        "intro",
        "Foundational, strategic and tactical factors keep Tehran from moving "
        "much closer to Moscow, yet the two enjoy strong ties and agree on many issues.",
    ),
    Claim(
        "C3",
        "A difficult history",
        "Not natural allies: the Russo-Persian wars, Turkmenchay "
        "and the loss of the Caucasus left a lasting mark on Iranian consciousness.",
    ),
    Claim(
        "C4",
        "A difficult history",
        "The 1941 invasion and the Soviet attempt to annex Iranian "
        "Azerbaijan renewed the fear that Russia wants to dismantle the Iranian state.",
    ),
    Claim(
        "C5",
        "A difficult history",
        "Soviet meddling via the Tudeh party pushed the Shah "
        "toward Washington; yet even he later sought balance through ties with Moscow.",
    ),
    Claim(
        "C6",
        "A difficult history",
        "After 1979, 'neither East nor West': marginal ties with "
        "Moscow despite estrangement from the US and Soviet support for Iraq.",
    ),
    Claim(
        "C7",
        "A difficult history",
        "Ties firmed after 1988 (arms deals of 1989) and grew in "
        "the 1990s, with US efforts to isolate Iran supplying the momentum.",
    ),
    Claim(
        "C8",
        "A difficult history",
        "Iran keeps Russia close and improves ties when needed to "
        "gain leverage, fully aware of the history.",
    ),
    Claim(
        "C9",
        "A non-strategic partnership",
        "Syria is the centre of the relationship: both "
        "commit resources to stop Western and Gulf rivals toppling the Syrian government.",
    ),
    Claim(
        "C10",
        "A non-strategic partnership",
        "Even in Syria their interests in the end game and desired outcomes differ.",
    ),
    Claim(
        "C11",
        "A non-strategic partnership",
        "Iran may fear a Russian betrayal in Syria: "
        "Russia may use the conflict to extract Western concessions over Ukraine.",
    ),
    Claim(
        "C12",
        "A non-strategic partnership",
        "In the nuclear dispute Russian support was "
        "lukewarm; at key moments Russia skipped its UNSC veto to protect its Western ties.",
    ),
    Claim(
        "C13",
        "A non-strategic partnership",
        "Iran is no longer an embattled revolutionary "
        "state but arguably the region's dominant power and an emerging stakeholder.",
    ),
    Claim(
        "C14",
        "A non-strategic partnership",
        "While sparring with Washington, Iran will seize "
        "chances for qualified alignment with the US to lower its regional costs.",
    ),
    Claim(
        "C15",
        "A non-strategic partnership",
        "Iran should treat Russia as a counterweight to "
        "its slow, qualified rapprochement with the West, not as a full ally.",
    ),
    Claim(
        "C16",
        "A non-strategic partnership",
        "The Gulf Arab states are Iran's regional rivals "
        "and, with the West, seek to unseat the Syrian government.",
    ),
)

BY_ID: dict[str, Claim] = {c.id: c for c in CLAIMS}
CITABLE: tuple[str, ...] = (*BY_ID, ASSUMPTION)


def claim(claim_id: str) -> Claim:
    """The claim with this id (KeyError if unknown)."""
    return BY_ID[claim_id]


def describe(claim_id: str) -> str:
    """One readable line for a citation: ``C9 (A non-strategic partnership): ...``."""
    if claim_id == ASSUMPTION:
        return "assumption: a modelling choice the article does not speak to"
    c = BY_ID[claim_id]
    return f"{c.id} ({c.section}): {c.text}"
