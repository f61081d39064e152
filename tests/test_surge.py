"""Surge alerts in the core (stories/surge.py), on synthetic streams: steady -> none, a surge -> exactly one,
a second run the same day -> none; day of week, the floor, quiet hours, urgency and the CX team."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from stories.config import CxConfig, Department, QuietHours
from stories.outbox import RecordingOutbox
from stories.surge import Surge, ThemedStory, find_surges, plan_surges, surge_lines

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # a Tuesday afternoon
LOGISTICS = Department(name="Logistics", timezone="Europe/London")
CONFIG = CxConfig(
    default_department="CX Team",
    departments=(Department(name="CX Team"), LOGISTICS),
    rules=(),
)
CHANNELS = {"Logistics": {"slack": "C0LOGIST01", "teams": "19:logistics"}, "CX Team": {"slack": "C0CXTEAM01"}}


class Stream:
    """Stories of given themes spread over past days (hour by hour from 08:00), with ids in order."""

    def __init__(self) -> None:
        self.stories: list[ThemedStory] = []

    def day(self, days_ago: int, theme: str, count: int, *, text: str = "") -> Stream:
        start = datetime.combine((NOW - timedelta(days=days_ago)).date(), time(8), tzinfo=UTC)
        for n in range(count):
            said = text or f"story {len(self.stories)} about {theme}"
            self.stories.append(ThemedStory(len(self.stories) + 1, start + timedelta(minutes=10 * n), (theme,), said))
        return self

    def steady(self, theme: str, per_day: int, *, weeks: int = 4) -> Stream:
        for days_ago in range(1, 7 * weeks + 1):
            self.day(days_ago, theme, per_day)
        return self


def test_a_steady_stream_raises_no_alert() -> None:
    stream = Stream().steady("late delivery", 3).day(0, "late delivery", 4)
    assert find_surges(department=LOGISTICS, stories=stream.stories, now=NOW) == []


def test_a_surge_raises_exactly_one_alert_for_its_theme() -> None:
    stream = Stream().steady("late delivery", 2).steady("damaged parcel", 2).day(0, "damaged parcel", 2)
    stream.day(0, "late delivery", 12, text="")
    surges = find_surges(department=LOGISTICS, stories=stream.stories, now=NOW)
    assert [(s.theme, s.count, s.usual) for s in surges] == [("late delivery", 12, 2.0)]
    assert surges[0].threshold < 12 and surges[0].day == NOW.date()
    assert len(surges[0].story_ids) == 12 and len(surges[0].quotes) == 3


def test_the_usual_is_the_same_weekday() -> None:
    stream = Stream()
    for days_ago in range(1, 29):  # busy Tuesdays (12), quiet other days (2)
        stream.day(days_ago, "refund", 12 if (NOW - timedelta(days=days_ago)).weekday() == 1 else 2)
    busy_tuesday = Stream()
    busy_tuesday.stories = [*stream.stories]
    busy_tuesday.day(0, "refund", 12)
    assert find_surges(department=LOGISTICS, stories=busy_tuesday.stories, now=NOW) == []
    wednesday = NOW + timedelta(days=1)
    stream.day(-1, "refund", 12)  # the same 12 on a Wednesday, usually 2
    assert [s.theme for s in find_surges(department=LOGISTICS, stories=stream.stories, now=wednesday)] == ["refund"]


def test_a_new_theme_needs_the_floor_count() -> None:
    four = Stream().steady("late delivery", 2).day(0, "recall", 4)
    assert find_surges(department=LOGISTICS, stories=four.stories, now=NOW) == []
    five = Stream().steady("late delivery", 2).day(0, "recall", 5)
    assert [(s.theme, s.count) for s in find_surges(department=LOGISTICS, stories=five.stories, now=NOW)] == [
        ("recall", 5)
    ]


def test_stories_after_now_or_before_the_window_do_not_count() -> None:
    stream = Stream().day(40, "recall", 30).day(-1, "recall", 30).day(0, "recall", 4)
    assert find_surges(department=LOGISTICS, stories=stream.stories, now=NOW) == []


def test_one_alert_per_theme_and_day_to_the_department_and_the_cx_team() -> None:
    outbox = RecordingOutbox()
    stream = Stream().steady("late delivery", 2).day(0, "late delivery", 10)
    surges = find_surges(department=LOGISTICS, stories=stream.stories, now=NOW)
    first = plan_surges(config=CONFIG, surges=surges, channels=CHANNELS, now=NOW)
    assert sorted((o.department, o.platform, o.channel) for o in first) == [
        ("CX Team", "slack", "C0CXTEAM01"),
        ("Logistics", "slack", "C0LOGIST01"),
        ("Logistics", "teams", "19:logistics"),
    ]
    assert {o.kind for o in first} == {"surge"} and {o.not_before for o in first} == {None}
    assert Surge.from_payload(first[0].payload) == surges[0]
    assert outbox.enqueue(first) == 3

    later = NOW + timedelta(hours=2)  # the same day, the surge still growing: no second alert
    stream.day(0, "late delivery", 6)
    again = plan_surges(
        config=CONFIG,
        surges=find_surges(department=LOGISTICS, stories=stream.stories, now=later),
        channels=CHANNELS,
        now=later,
    )
    assert again and outbox.enqueue(again) == 0

    tomorrow = NOW + timedelta(days=1)  # a new day: the theme may alert again
    stream.day(-1, "late delivery", 16)
    next_day = plan_surges(
        config=CONFIG,
        surges=find_surges(department=LOGISTICS, stories=stream.stories, now=tomorrow),
        channels=CHANNELS,
        now=tomorrow,
    )
    assert outbox.enqueue(next_day) == 3


def test_quiet_hours_hold_an_alert_unless_a_story_in_it_is_urgent() -> None:
    quiet = Department(name="Logistics", quiet_hours=QuietHours(start=time(14), end=time(18)))
    config = CxConfig(default_department="Logistics", departments=(quiet,), rules=())
    stream = Stream().steady("late delivery", 2).day(0, "late delivery", 10)
    surges = find_surges(department=quiet, stories=stream.stories, now=NOW)
    held = plan_surges(config=config, surges=surges, channels=CHANNELS, now=NOW)
    assert [(o.channel, o.not_before) for o in held] == [
        ("C0LOGIST01", datetime(2026, 3, 3, 18, 0, tzinfo=UTC)),
        ("19:logistics", datetime(2026, 3, 3, 18, 0, tzinfo=UTC)),
    ]
    urgent = plan_surges(config=config, surges=surges, channels=CHANNELS, now=NOW, urgent=[surges[0].story_ids[3]])
    assert [o.not_before for o in urgent] == [None, None]


def test_quotes_are_representative_distinct_and_short() -> None:
    stream = Stream().steady("late delivery", 1)
    for text in [
        "The parcel was late again, three days late",
        "Late parcel again, three days after the promised date",
        "Parcel late three days, nobody told me",
        "Parcel late three days, nobody told me",
        "I love the new colours",
        "x" * 1000,
    ]:
        stream.day(0, "late delivery", 1, text=text)
    (surge,) = find_surges(department=LOGISTICS, stories=stream.stories, now=NOW, floor=5)
    assert len(surge.quotes) == 3 and len(set(surge.quotes)) == 3
    assert "I love the new colours" not in surge.quotes
    assert all(len(q) <= 280 for q in surge.quotes)
    heading, figures = surge_lines(surge)
    assert heading == "Surge: late delivery in Logistics"
    assert figures.startswith("6 stories today, against 1 on a usual Tuesday (alerting above")
