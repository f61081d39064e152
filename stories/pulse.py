"""The monthly pulse: one anonymous question, "Who is your work for?", to a sample the CX team chooses.

What is kept of an answer is one yes/no, "does it mention customers?", added to its month's and department's
counts; never the words, never who said what. Whether a person already answered this month is kept only as a
keyed hash (HMAC-SHA256 under CX_HASH_KEY) of person and month, so a second answer is not counted twice and
nothing links the hash to a person or a department without the key. "Mentions customers" is decided by
:data:`CUSTOMER_WORDS` (whole words, any case, simple plurals). A department's share is shown only from
:data:`MIN_ANSWERS` answers in a month, so one person's answer cannot be read off a small department.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

QUESTION = "Who is your work for?"
MIN_ANSWERS = 3
TREND_MONTHS = 6
MAX_ANSWER = 2000

CUSTOMER_WORDS = (
    "customer",
    "client",
    "patient",
    "guest",
    "user",
    "member",
    "consumer",
    "shopper",
    "buyer",
    "passenger",
    "traveller",
    "traveler",
    "subscriber",
    "visitor",
    "resident",
    "tenant",
    "citizen",
    "student",
    "caller",
    "end user",
    "the public",
    "people we serve",
    "kunde",
    "kunden",
    "cliente",
    "clientes",
    "klant",
)
_CUSTOMER = re.compile(
    r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in CUSTOMER_WORDS) + r")(?:s|es|'s|s')?\b",
    re.IGNORECASE,
)


def mentions_customers(answer: str) -> bool:
    """Whether an answer names the people the work is ultimately for.

    >>> mentions_customers("Our patients, mostly"), mentions_customers("My manager"), mentions_customers("users!")
    (True, False, True)
    """
    return _CUSTOMER.search(answer) is not None


@dataclass(frozen=True, slots=True)
class PulseMember:
    platform: str
    user_id: str
    department: str


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str  # YYYY-MM
    department: str
    answers: int
    customers: int


class PulseStore(Protocol):
    def add_pulse_member(self, member: PulseMember, *, added_by: str, now: datetime) -> bool:
        """Add to the sample (or move to another department); False if already there as given."""
        ...

    def remove_pulse_member(self, *, platform: str, user_id: str) -> bool: ...

    def pulse_members(self) -> list[PulseMember]: ...

    def pulse_member(self, *, platform: str, user_id: str) -> PulseMember | None: ...

    def count_pulse_answer(self, *, digest: str, month: str, department: str, customers: bool) -> bool:
        """Count one answer unless ``digest`` was counted already (one transaction); whether it was counted."""
        ...

    def pulse_answered(self, digest: str) -> bool:
        """Whether the answer this digest stands for was counted."""
        ...

    def pulse_counts(self, *, since_month: str) -> list[MonthCount]: ...


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def months_back(month: str, count: int) -> str:
    """``count`` months before ``month``: ``months_back("2026-02", 3) == "2025-11"``.

    >>> months_back("2026-02", 3)
    '2025-11'
    """
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def trend_lines(counts: Sequence[MonthCount]) -> list[str]:
    """One line per department: its months' share of answers that mention customers, oldest first."""
    by_department: dict[str, list[MonthCount]] = {}
    for count in sorted(counts, key=lambda c: (c.department, c.month)):
        by_department.setdefault(count.department, []).append(count)
    lines = []
    for department, months in by_department.items():
        parts = [
            f"{c.month} {round(100 * c.customers / c.answers)}% of {c.answers}"
            if c.answers >= MIN_ANSWERS
            else f"{c.month} fewer than {MIN_ANSWERS} answers"
            for c in months
        ]
        lines.append(f"{department}: " + ", ".join(parts))
    return lines
