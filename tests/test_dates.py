from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stories.dates import InvalidDate, format_due, parse_date, split_due

TUESDAY = date(2026, 12, 1)  # a Tuesday
FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TUESDAY),
        ("Tomorrow", date(2026, 12, 2)),
        ("Friday", FRIDAY),
        ("fri", FRIDAY),
        ("tuesday", TUESDAY),  # said on a Tuesday: today
        ("monday", date(2026, 12, 7)),
        ("next friday", date(2026, 12, 11)),
        ("next monday", date(2026, 12, 7)),
        ("in 3 days", date(2026, 12, 4)),
        ("in a week", date(2026, 12, 8)),
        ("within two weeks", date(2026, 12, 15)),
        ("2026-12-04", FRIDAY),
        ("4 Dec", FRIDAY),
        ("Dec 4", FRIDAY),
        ("December 4th, 2026", FRIDAY),
        ("4th of December", FRIDAY),
        ("1 Dec", TUESDAY),
        ("30 Nov", date(2027, 11, 30)),  # passed this year: next year's
        ("Friday.", FRIDAY),
    ],
)
def test_due_dates_people_type_are_read_relative_to_today(text: str, expected: date) -> None:
    assert parse_date(text, today=TUESDAY) == expected


@pytest.mark.parametrize("text", ["", "phone", "the end of time", "3 days", "next", "may", "someday soon"])
def test_text_that_is_no_date_is_not_guessed(text: str) -> None:
    assert parse_date(text, today=TUESDAY) is None


@pytest.mark.parametrize("text", ["2026-02-30", "31 Sep", "2026-13-01", "in 9000 days"])
def test_a_date_shaped_typo_is_reported(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_date(text, today=TUESDAY)


def test_29_february_without_a_year_means_the_next_leap_day() -> None:
    assert parse_date("29 Feb", today=date(2026, 12, 1)) == date(2028, 2, 29)
    assert parse_date("29 Feb", today=date(2028, 1, 10)) == date(2028, 2, 29)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.sampled_from(list(range(7))))
def test_a_weekday_is_always_within_the_coming_week(today: date, weekday: int) -> None:
    name = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][weekday]
    due = parse_date(name, today=today)
    assert due is not None
    assert due.weekday() == weekday
    assert timedelta(0) <= due - today < timedelta(days=7)
    later = parse_date(f"next {name}", today=today)
    assert later is not None and later.weekday() == weekday
    assert later.isocalendar()[:2] == (today + timedelta(days=7)).isocalendar()[:2]


@pytest.mark.parametrize(
    ("text", "what", "due"),
    [
        ("call the customer by Friday", "call the customer", FRIDAY),
        ("go by bus by 2026-12-04", "go by bus", FRIDAY),
        ("reply by phone", "reply by phone", None),
        ("send a refund in 3 days", "send a refund", FRIDAY),
        ("fix the checkout", "fix the checkout", None),
        ("  ring back by tomorrow  ", "ring back", date(2026, 12, 2)),
    ],
)
def test_a_trailing_by_date_is_split_off_the_commitment(text: str, what: str, due: date | None) -> None:
    assert split_due(text, today=TUESDAY) == (what, due)


def test_a_typo_in_the_due_date_is_not_silently_dropped() -> None:
    with pytest.raises(InvalidDate, match="2026-02-30"):
        split_due("refund by 2026-02-30", today=TUESDAY)


def test_due_dates_show_the_year_only_when_it_differs() -> None:
    assert format_due(FRIDAY, today=TUESDAY) == "Fri 4 Dec"
    assert format_due(date(2027, 1, 8), today=TUESDAY) == "Fri 8 Jan 2027"
