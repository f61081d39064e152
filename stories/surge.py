"""Surge alerts: a theme counted well above its usual level today, told to its department and the CX team at once.

Per department and theme, today's count (local day, so far) is compared with the same weekday over the four
weeks before (day-of-week adjusted: Mondays are compared with Mondays). It is a surge when the count is at
least ``floor`` and more than ``sigmas`` standard deviations above the usual. The spread is pooled over all 28
days (each day against its own weekday's mean; four samples alone are too few) and never below the square root
of the usual count (counts of rare events vary that much by chance), so a theme that is usually absent needs the
floor, not just one story, to alert.

At most one alert per department, theme and local day: its outbox key names them, so planning again later the
same day queues nothing. Alerts wait for the department's quiet hours to end unless the surge is urgent (one of
its stories is urgent, the rule the single-story urgent posts already follow).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from stories.config import CxConfig, Department
from stories.outbox import Outgoing
from stories.patterns import content_words, jaccard
from stories.schedule import local_instant, quiet_until
from stories.views import SurgeView

FLOOR = 5  # stories of one theme in a day, at least
SIGMAS = 2.0
WEEKS = 4
QUOTES = 3
QUOTE_LENGTH = 280


@dataclass(frozen=True, slots=True)
class ThemedStory:
    """What surge detection reads of a story routed to a department: when, its themes, its (redacted) text."""

    story_id: int
    created_at: datetime
    themes: tuple[str, ...]
    text: str = ""


@dataclass(frozen=True, slots=True)
class Surge:
    department: str
    theme: str
    day: date  # the department's local day
    count: int
    usual: float  # the same weekday's mean over the weeks before
    spread: float  # the standard deviation used
    threshold: float  # the count it had to pass: the usual plus ``sigmas`` spreads, and at least the floor
    story_ids: tuple[int, ...]
    quotes: tuple[str, ...]
    quoted: tuple[int, ...] = ()  # the story each quote is from (erasure takes a forgotten story's quote out)

    def to_payload(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "theme": self.theme,
            "day": self.day.isoformat(),
            "count": self.count,
            "usual": self.usual,
            "spread": self.spread,
            "threshold": self.threshold,
            "story_ids": list(self.story_ids),
            "quotes": list(self.quotes),
            "quoted": list(self.quoted),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Surge:
        return cls(
            department=str(data["department"]),
            theme=str(data["theme"]),
            day=date.fromisoformat(str(data["day"])),
            count=int(data["count"]),
            usual=float(data["usual"]),
            spread=float(data["spread"]),
            threshold=float(data["threshold"]),
            story_ids=tuple(int(i) for i in data.get("story_ids", ())),
            quotes=tuple(str(q) for q in data.get("quotes", ())),
            quoted=tuple(int(i) for i in data.get("quoted", ())),
        )


def window(department: Department, *, now: datetime) -> tuple[datetime, datetime]:
    """The instants to read stories between: the start of the local day ``WEEKS`` weeks ago, and ``now``."""
    zone = ZoneInfo(department.timezone)
    today = now.astimezone(zone).date()
    return local_instant(datetime.combine(today - timedelta(weeks=WEEKS), time()), zone), now


def find_surges(
    *,
    department: Department,
    stories: Iterable[ThemedStory],
    now: datetime,
    floor: int = FLOOR,
    sigmas: float = SIGMAS,
) -> list[Surge]:
    """The department's themes surging today (its local day up to ``now``), largest first."""
    zone = ZoneInfo(department.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(weeks=WEEKS)
    daily: dict[str, Counter[date]] = defaultdict(Counter)
    todays: dict[str, list[ThemedStory]] = defaultdict(list)
    for story in stories:
        day = story.created_at.astimezone(zone).date()
        if not first <= day <= today or story.created_at > now:
            continue
        for theme in dict.fromkeys(story.themes):
            daily[theme][day] += 1
            if day == today:
                todays[theme].append(story)
    surges = []
    for theme, members in todays.items():
        count = len(members)
        usual, spread = _baseline(daily[theme], today=today)
        if count >= floor and count > usual + sigmas * spread:
            chosen = _representative(members)
            surges.append(
                Surge(
                    department=department.name,
                    theme=theme,
                    day=today,
                    count=count,
                    usual=round(usual, 2),
                    spread=round(spread, 2),
                    threshold=round(max(usual + sigmas * spread, floor - 1), 2),
                    story_ids=tuple(s.story_id for s in members),
                    quotes=tuple(_quote(s.text) for s in chosen),
                    quoted=tuple(s.story_id for s in chosen),
                )
            )
    return sorted(surges, key=lambda s: (-s.count, s.theme))


def _baseline(counts: Counter[date], *, today: date) -> tuple[float, float]:
    """The same weekday's mean over the ``WEEKS`` weeks before ``today``, and the pooled spread (see module)."""
    days = [today - timedelta(days=n) for n in range(1, 7 * WEEKS + 1)]
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for day in days:
        by_weekday[day.weekday()].append(counts.get(day, 0))
    means = {weekday: sum(values) / len(values) for weekday, values in by_weekday.items()}
    residuals = [counts.get(day, 0) - means[day.weekday()] for day in days]
    pooled = math.sqrt(sum(r * r for r in residuals) / max(len(residuals) - len(means), 1))
    usual = means[today.weekday()]
    return usual, max(pooled, math.sqrt(max(usual, 1.0)))


def _representative(members: Sequence[ThemedStory]) -> list[ThemedStory]:
    """Up to ``QUOTES`` stories closest in wording to the rest of the surge, each saying something different."""
    words = [content_words(s.text) for s in members]

    def closeness(i: int) -> tuple[float, int]:
        others = [jaccard(words[i], words[j]) for j in range(len(members)) if j != i]
        return (sum(others) / len(others) if others else 0.0, -members[i].story_id)

    chosen: list[int] = []
    for i in sorted(range(len(members)), key=closeness, reverse=True):
        if not members[i].text.strip() or any(members[i].text == members[j].text for j in chosen):
            continue
        chosen.append(i)
        if len(chosen) == QUOTES:
            break
    return [members[i] for i in chosen]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1].rstrip() + "…"


def surge_key(surge: Surge, *, platform: str, channel: str) -> str:
    return f"surge:{surge.department}:{surge.theme}:{surge.day.isoformat()}:{platform}:{channel}"[:300]


def plan_surges(
    *,
    config: CxConfig,
    surges: Iterable[Surge],
    channels: Mapping[str, Mapping[str, str]],
    now: datetime,
    urgent: Iterable[int] = (),
) -> list[Outgoing]:
    """One alert per surge to its department's channels and the CX team's (the default department), on each
    platform; held until a channel's quiet hours end unless one of the surge's stories is ``urgent``."""
    urgent_ids = set(urgent)
    result: list[Outgoing] = []
    seen: set[str] = set()
    for surge in surges:
        pressing = bool(urgent_ids & set(surge.story_ids))
        for name in dict.fromkeys((surge.department, config.default_department)):
            department = config.department(name)
            held = (
                None
                if pressing
                else quiet_until(department.quiet_hours, zone=ZoneInfo(department.timezone), moment=now)
            )
            for platform, channel in sorted(channels.get(name, {}).items()):
                key = surge_key(surge, platform=platform, channel=channel)
                if not channel or key in seen:
                    continue
                seen.add(key)
                result.append(
                    Outgoing(
                        key=key,
                        kind="surge",
                        platform=platform,
                        channel=channel,
                        department=name,
                        payload=surge.to_payload(),
                        not_before=held,
                    )
                )
    return result


def surge_lines(surge: Surge) -> tuple[str, str]:
    """The alert's heading and its one line of figures (renderers lay them out; the wording is decided here)."""
    heading = f"Surge: {surge.theme} in {surge.department}"
    usual = f"{surge.usual:.1f}".removesuffix(".0")
    figures = (
        f"{surge.count} stories today, against {usual} on a usual {surge.day:%A} (alerting above {surge.threshold:.1f})"
    )
    return heading, figures


def surge_view(surge: Surge) -> SurgeView:
    heading, figures = surge_lines(surge)
    return SurgeView(heading=heading, figures=figures, quotes=surge.quotes)
