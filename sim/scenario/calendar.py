"""Calendar months: a scenario starts in a real month, and every simulated month has a date.

Month 1 is the scenario's ``start`` ("YYYY-MM"); month m is ``m - 1`` calendar months later.
Events and regime changes may be dated (``date = "2018-05"``) or numbered (``month = 30``).
"""

from __future__ import annotations

import re

# fullmatch, ASCII digits: "2015-12\n" or full-width digits are not a month.
_DATE = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
FORMAT = "a month as YYYY-MM, e.g. 2015-12"


def parse(text: str) -> tuple[int, int]:
    """(year, month) of a "YYYY-MM" string; ValueError if it is not one."""
    m = _DATE.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not {FORMAT}: {text!r}")
    return int(m.group(1)), int(m.group(2))


def month_of(date: str, start: str) -> int:
    """The simulated month (1 = ``start``) in which ``date`` falls (< 1 if before the start)."""
    (y, m), (y0, m0) = parse(date), parse(start)
    return (y - y0) * 12 + (m - m0) + 1


def date_of(month: int, start: str) -> str:
    """The "YYYY-MM" date of simulated month ``month`` (month 0 is the month before start)."""
    y0, m0 = parse(start)
    k = (m0 - 1) + (int(month) - 1)
    return f"{y0 + k // 12:04d}-{k % 12 + 1:02d}"


def dates(months: int, start: str) -> list[str]:
    """Dates of months 0..``months`` (month 0 is the initial state, the month before start)."""
    return [date_of(m, start) for m in range(months + 1)]
