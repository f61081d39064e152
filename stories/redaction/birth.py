"""Dates of birth: a date shortly after "born", "DOB", "date of birth", "birth date" or "birthday".

Only the date is replaced ("born on [date of birth]"), and only near those words: dates elsewhere (orders,
deliveries) are the story. A year alone ("born in 1985") is kept: it identifies no one by itself.
The canonical form is ISO (1985-03-14); a numeric date whose day and month cannot be told apart (03/04/1985)
is read day first unless the first region names month-first dates (US).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from stories.dates import MONTHS
from stories.redaction.spans import Hit, scan

_MONTHS = MONTHS  # one table of month names for the core (stories.dates)
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_DATE = (
    r"(?P<iso>(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2}))"
    r"|(?P<num>(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2}))"
    rf"|(?P<dmy>(?P<dd>\d{{1,2}}){_ORD}\s{{1,2}}(?:of\s{{1,2}})?(?P<dm>{_MONTH}),?\s{{1,2}}(?P<dy>\d{{4}}))"
    rf"|(?P<mdy>(?P<mm>{_MONTH})\s{{1,2}}(?P<md>\d{{1,2}}){_ORD},?\s{{1,2}}(?P<my>\d{{4}}))"
)
_BIRTH = re.compile(
    r"\b(?:born|d\.?o\.?b\.?|date\s{1,2}of\s{1,2}birth|birth\s{0,2}date|birthday)"
    r"[\s:,=-]{0,4}(?:(?:is|was|on|the|:)\s{1,2}){0,3}"
    rf"(?P<date>{_DATE})(?![\w/-]|\.\d)",
    re.IGNORECASE,
)
_MONTH_FIRST = frozenset({"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"})


def _year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else (1900 + year if year > 30 else 2000 + year)


def _iso(match: re.Match[str], month_first: bool) -> str:
    if match["iso"]:
        y, m, d = int(match["iy"]), int(match["im"]), int(match["id"])
    elif match["num"]:
        a, b, y = int(match["a"]), int(match["b"]), _year(match["y"])
        m, d = (a, b) if (month_first and a <= 12) or b > 12 else (b, a)
    elif match["dmy"]:
        y, m, d = int(match["dy"]), _MONTHS[match["dm"].lower().rstrip(".")], int(match["dd"])
    else:
        y, m, d = int(match["my"]), _MONTHS[match["mm"].lower().rstrip(".")], int(match["md"])
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return match["date"]


def find_dates_of_birth(text: str, *, region: str = "US") -> Iterator[Hit]:
    month_first = region.upper() in _MONTH_FIRST
    return scan(_BIRTH, text, lambda m: Hit(m.start("date"), m.end("date"), _iso(m, month_first)))
