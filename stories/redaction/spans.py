"""Replacing found values with their placeholder, one kind at a time, and keeping the tally.

Every detector yields ``Hit``s: non-overlapping spans in ascending order, each with the value's canonical
spelling. The text is rebuilt once per kind (a list of slices joined at the end), so the cost is linear in
the text however many values are found.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

PLACEHOLDERS = {
    "email": "[email]",
    "phone": "[phone]",
    "card": "[card]",
    "iban": "[iban]",
    "ip": "[ip]",
    "ssn": "[ssn]",
    "national_id": "[national id]",
    "date_of_birth": "[date of birth]",
    "name": "[name]",
    "number": "[number]",
}


class Hit(NamedTuple):
    start: int
    end: int
    value: str  # canonical spelling (stories.redaction.canonical)
    # Other spellings the same value may be asked for by (a national phone number under each region where it can
    # exist): recorded too, so `cxbot forget` finds it however it is written.
    also: tuple[str, ...] = ()


class Tally:
    """What one ``redact`` call removed: counts per kind and ``(kind, canonical value)`` pairs, in order."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.found: list[tuple[str, str]] = []

    def apply(self, text: str, kind: str, hits: Iterable[Hit]) -> str:
        placeholder = PLACEHOLDERS[kind]
        parts: list[str] = []
        last = 0
        for hit in hits:
            parts.append(text[last : hit.start])
            parts.append(placeholder)
            last = hit.end
            self.counts[kind] += 1
            self.found.append((kind, hit.value))
            self.found.extend((kind, value) for value in hit.also if value != hit.value)
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


# A check turns a regex match into a Hit, or None to keep the text (searching again one character later).
Check = Callable[[re.Match[str]], "Hit | None"]


def scan(pattern: re.Pattern[str], text: str, check: Check) -> Iterator[Hit]:
    """Accepted matches of ``pattern``; a rejected match is searched again from its next character.

    Linear as long as ``pattern`` itself is: every pattern here matches at most a bounded number of
    characters, or is anchored so that it cannot start inside a run it already rejected.
    """
    position = 0
    while (match := pattern.search(text, position)) is not None:
        hit = check(match)
        if hit is None:
            position = match.start() + 1
            continue
        yield hit
        position = hit.end
