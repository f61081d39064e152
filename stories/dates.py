"""Due dates as people type them ("by Friday", "by 2026-12-04", "in 3 days"), relative to a given today.

The grammar is small on purpose, so a date is never guessed:

- ``today``, ``tomorrow``;
- a weekday (``friday``, ``fri``): the next one on or after today, so "by Friday" said on a Friday is today;
  ``next friday``: that weekday in the following calendar week (Monday-Sunday);
- ``in N days`` / ``in N weeks`` / ``in a week`` (also ``within ...``);
- ISO ``2026-12-04``; ``4 Dec``, ``Dec 4``, ``4th December 2026``: without a year, the next such day on or
  after today.

:func:`parse_date` answers ``None`` for text that is not a date at all, and raises :class:`InvalidDate` for
text shaped like a date that names no real day (``2026-02-30``), so a typo is reported instead of dropped.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
MAX_AHEAD = timedelta(days=5 * 366)  # "in 90000 days" is a typo, not a plan

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RELATIVE = re.compile(r"(?:in|within)\s+(\d{1,4}|a|an|one|two|three|four|five|six|seven)\s+(day|week)s?")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?(?:\s+(\d{4}))?")
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s+(\d{4}))?")
_BY = re.compile(r"\s+by\s+", re.I)
_TRAILING_RELATIVE = re.compile(r"\s+((?:in|within)\s+\S+\s+(?:day|week)s?)\W*$", re.I)


class InvalidDate(ValueError):
    """Text shaped like a date that names no real or sensible day; the message says why."""


def parse_date(text: str, *, today: date) -> date | None:
    """The day ``text`` names, relative to ``today``; ``None`` if it is not a date expression.

    >>> parse_date("friday", today=date(2026, 12, 1))
    datetime.date(2026, 12, 4)
    """
    words = " ".join(text.casefold().replace(",", " ").split()).strip(" .!?;:")
    if not words:
        return None
    result = _parse(words, today)
    if result is not None and result - today > MAX_AHEAD:
        raise InvalidDate(f"{text.strip()!r} is more than five years away")
    return result


def _parse(words: str, today: date) -> date | None:
    if words == "today":
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    if words in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS[words] - today.weekday()) % 7)
    if words.startswith("next ") and words[5:] in WEEKDAYS:
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=WEEKDAYS[words[5:]])
    if match := _RELATIVE.fullmatch(words):
        count = int(match[1]) if match[1].isdigit() else _NUMBERS[match[1]]
        return today + timedelta(days=count * (7 if match[2] == "week" else 1))
    if match := _ISO.fullmatch(words):
        return _day(int(match[1]), int(match[2]), int(match[3]), words)
    if (match := _DAY_MONTH.fullmatch(words)) and match[2] in MONTHS:
        return _dated(int(match[1]), MONTHS[match[2]], match[3], today, words)
    if (match := _MONTH_DAY.fullmatch(words)) and match[1] in MONTHS:
        return _dated(int(match[2]), MONTHS[match[1]], match[3], today, words)
    return None


def _dated(day: int, month: int, year: str | None, today: date, words: str) -> date:
    if year is not None:
        return _day(int(year), month, day, words)
    this_year = _day(today.year, month, day, words, leap_ok=True)
    if this_year is not None and this_year >= today:
        return this_year
    return _day(today.year + 1, month, day, words)


def _day(year: int, month: int, day: int, words: str, *, leap_ok: bool = False) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if leap_ok and (month, day) == (2, 29):  # "29 Feb" in a common year: the next leap year's
            return _day(year + (4 - year % 4), month, day, words)
        raise InvalidDate(f"{words!r} is not a day in the calendar") from None


def split_due(text: str, *, today: date) -> tuple[str, date | None]:
    """``"call the customer by Friday"`` -> ``("call the customer", <Friday>)``.

    Only a trailing ``by <date>`` or ``in N days`` counts, so ``"reply by phone"`` stays text; the last
    ``by`` that is followed by a date wins (``"go by bus by Friday"``).
    """
    text = text.strip()
    if match := _TRAILING_RELATIVE.search(text):
        due = parse_date(match[1], today=today)
        if due is not None:
            return text[: match.start()].strip(), due
    for match in reversed(list(_BY.finditer(text))):
        due = parse_date(text[match.end() :], today=today)
        if due is not None:
            return text[: match.start()].strip(), due
    return text, None


def format_due(due: date, *, today: date) -> str:
    """``Fri 4 Dec``, with the year when it is not this year's.

    >>> format_due(date(2026, 12, 4), today=date(2026, 12, 1))
    'Fri 4 Dec'
    """
    text = f"{_DAY_NAMES[due.weekday()]} {due.day} {_MONTH_NAMES[due.month - 1]}"  # tables, not strftime: cheaper, per line
    return text if due.year == today.year else f"{text} {due.year}"


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # English whatever the process locale
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
