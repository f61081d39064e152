"""The weekly pattern report: each department's own cut of the voice of the customer, with the patterns in it.

For the week before the report (Monday 08:00 in the department's timezone by default):

- recurring themes: the routing themes the week's stories carry, and groups of similar comments found by
  comparing their (redacted) words, each counted, with a representative quote and the change against the
  average of the previous four weeks;
- NPS and CSAT for the week and the four before it;
- commitments opened and closed in the week;
- the week's story that drew the most reactions.

Similarity is token-set Jaccard on content words (lower-cased, common words and redaction placeholders dropped,
a plural ``s`` trimmed): two comments about a "late parcel" and "parcels arriving late" share most of theirs.
Groups grow greedily: a comment joins the group whose core words (those most of its members use) it overlaps
most, if at least :data:`SIMILAR` and in at least :data:`SHARED` words; a group of one is not a pattern. Small,
deterministic, explainable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from stories.config import Department
from stories.outbox import Outgoing
from stories.presentation import truncate
from stories.schedule import Schedule, Slot, local_instant
from stories.scores import csat_percent, net_promoter_score
from stories.stats import StatsReader

REPORT_SCHEDULE = "0 8 * * mon"  # crontab, in each department's timezone
SIMILAR = 0.2  # Jaccard similarity for a comment to join a group...
SHARED = 2  # ...sharing at least this many content words with it
PREVIOUS_WEEKS = 4
MAX_THEMES = 5
MAX_GROUPS = 3
QUOTE = 200  # characters
PROOFS_HEADING = "Did the fixes work?"

_WORD = re.compile(r"[^\W\d_]{3,}")
_PLACEHOLDER = re.compile(r"\[[a-z]+\]")
STOPWORDS = frozenset(
    """
    the and for are but not you your yours with have has had was were been being this that these those from they
    them their there then than what when where which who whom why how all any both each few more most other some
    such only own same very can will just don should now into onto over under again further once here off out our
    ours about above after before below between during through until while because its it's itself him his her
    hers she he himself herself myself yourself ourselves themselves also get got would could did does doing done
    make made one two still even really much many well back way too yet let lets said say says told tell
    """.split()
)


@dataclass(frozen=True, slots=True)
class PatternStory:
    """What the report reads per story: its redacted comment, themes, scores and reactions."""

    story_id: int
    title: str
    text: str
    themes: tuple[str, ...]
    created_at: datetime
    reactions: int = 0


class PatternStories(Protocol):
    def pattern_stories(self, *, department: str, since: datetime, until: datetime) -> list[PatternStory]:
        """Stories routed to ``department`` created in ``[since, until)``."""
        ...


Proofs = Callable[[Department, datetime], Sequence[str]]
"""``(department, report end) -> lines``: how the department's recent fixes went (stories.fixproof.report_lines)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A recurring theme (from routing) or a group of similar comments."""

    label: str
    kind: Literal["theme", "similar"]
    count: int  # stories this week
    previous: float  # stories per week, on average, over the previous four weeks
    quote: str  # a representative comment (redacted), shortened
    story_id: int

    @property
    def change(self) -> str:
        """'new', 'same', '+50%' or '−25%' against the previous four weeks' average."""
        if self.previous == 0:
            return "new"
        ratio = self.count / self.previous - 1
        if abs(ratio) < 0.005:
            return "same"
        return f"{ratio:+.0%}".replace("-", "−")


@dataclass(frozen=True, slots=True)
class WeekScores:
    week_start: str  # local date, ISO
    nps: float | None
    csat: float | None
    responses: int


@dataclass(frozen=True, slots=True)
class TopStory:
    story_id: int
    title: str
    reactions: int


@dataclass(frozen=True, slots=True)
class PatternReport:
    department: str
    week_start: datetime
    week_end: datetime
    stories: int
    patterns: tuple[Pattern, ...]
    weeks: tuple[WeekScores, ...]  # oldest first; the last is the report's week
    commitments_opened: int
    commitments_closed: int
    top_story: TopStory | None = None
    timezone: str = "UTC"
    proofs: tuple[str, ...] = ()  # stories.fixproof: did the fixes closed lately make their comments fewer

    @property
    def themes(self) -> tuple[Pattern, ...]:
        return tuple(p for p in self.patterns if p.kind == "theme")

    @property
    def similar(self) -> tuple[Pattern, ...]:
        return tuple(p for p in self.patterns if p.kind == "similar")

    def to_payload(self) -> dict[str, Any]:
        """JSON-able, for the outbox (what was decided is what gets posted, whenever the post happens)."""
        data = asdict(self)
        data["week_start"] = self.week_start.isoformat()
        data["week_end"] = self.week_end.isoformat()
        return data

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> PatternReport:
        top = data.get("top_story")
        return cls(
            department=str(data["department"]),
            week_start=datetime.fromisoformat(data["week_start"]),
            week_end=datetime.fromisoformat(data["week_end"]),
            stories=int(data["stories"]),
            patterns=tuple(Pattern(**p) for p in data.get("patterns", ())),
            weeks=tuple(WeekScores(**w) for w in data.get("weeks", ())),
            commitments_opened=int(data.get("commitments_opened", 0)),
            commitments_closed=int(data.get("commitments_closed", 0)),
            top_story=TopStory(**top) if top else None,
            timezone=str(data.get("timezone", "UTC")),
            proofs=tuple(str(line) for line in data.get("proofs", ())),
        )


# --- words and similarity ---------------------------------------------------------------------------------------


def content_words(text: str) -> frozenset[str]:
    """The words that carry meaning: lower-cased, no common words or placeholders, plural ``s`` trimmed.

    >>> sorted(content_words("The parcels arrived LATE, again! Email [email]"))
    ['arrived', 'email', 'late', 'parcel']
    """
    words = set()
    for word in _WORD.findall(_PLACEHOLDER.sub(" ", text.casefold())):
        if word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def is_similar(words: frozenset[str], core: frozenset[str]) -> bool:
    """Whether a comment's content words are similar to a group's core words (or another comment's)."""
    return jaccard(words, core) >= SIMILAR and len(words & core) >= SHARED


_similar = is_similar


@dataclass
class _Group:
    members: list[tuple[PatternStory, frozenset[str]]] = field(default_factory=list)
    core: frozenset[str] = frozenset()

    def add(self, story: PatternStory, words: frozenset[str]) -> None:
        self.members.append((story, words))
        counts = Counter(w for _, ws in self.members for w in ws)
        self.core = frozenset(w for w, n in counts.items() if 2 * n > len(self.members) or len(self.members) == 1)

    @property
    def label(self) -> str:
        counts = Counter(w for _, ws in self.members for w in ws)
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        return " · ".join(w for w, _ in top)


def similar_groups(stories: Sequence[PatternStory]) -> list[_Group]:
    """Greedy groups of similar comments, largest first (ties: earliest story first)."""
    groups: list[_Group] = []
    for story in sorted(stories, key=lambda s: (s.created_at, s.story_id)):
        words = content_words(story.text)
        if not words:
            continue
        best, score = None, SIMILAR
        for group in groups:
            similarity = jaccard(words, group.core)
            if similarity >= score and _similar(words, group.core):
                best, score = group, similarity
        if best is None:
            best = _Group()
            groups.append(best)
        best.add(story, words)
    return sorted(groups, key=lambda g: (-len(g.members), g.members[0][0].created_at, g.members[0][0].story_id))


def representative(members: Sequence[tuple[PatternStory, frozenset[str]]]) -> PatternStory:
    """The member most like the others (highest mean similarity); the earliest among equals."""

    def closeness(item: tuple[PatternStory, frozenset[str]]) -> tuple[float, float, int]:
        story, words = item
        others = [jaccard(words, w) for s, w in members if s.story_id != story.story_id]
        mean = sum(others) / len(others) if others else 0.0
        return (-mean, story.created_at.timestamp(), story.story_id)

    return min(members, key=closeness)[0]


def _quote(story: PatternStory) -> str:
    return truncate(" ".join(story.text.split()), QUOTE)


# --- the report ----------------------------------------------------------------------------------------------


def report_week(department: Department, *, slot: Slot) -> tuple[datetime, datetime]:
    """The seven local calendar days before the report's day, midnight to midnight, as UTC instants (a week with
    a DST change is 167 or 169 hours long)."""
    zone = ZoneInfo(department.timezone)
    day = datetime.combine(slot.local.date(), datetime.min.time())
    return local_instant(day - timedelta(days=7), zone), local_instant(day, zone)


def _weeks_before(department: Department, *, start: datetime, count: int) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(department.timezone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    return [
        (
            local_instant(local_start - timedelta(days=7 * n), zone),
            local_instant(local_start - timedelta(days=7 * (n - 1)), zone),
        )
        for n in range(count, 0, -1)
    ]


def build_report(
    *,
    department: Department,
    since: datetime,
    until: datetime,
    stories: PatternStories,
    stats: StatsReader,
    proofs: Proofs | None = None,
) -> PatternReport:
    """The report for ``[since, until)``, compared with the four weeks before ``since``; ``proofs`` gives the
    lines on the department's fixes (stories.fixproof.report_lines)."""
    week = stories.pattern_stories(department=department.name, since=since, until=until)
    earlier = _weeks_before(department, start=since, count=PREVIOUS_WEEKS)
    before = [stories.pattern_stories(department=department.name, since=a, until=b) for a, b in earlier]
    patterns = [*_theme_patterns(week, before), *_similar_patterns(week, before)]
    weeks = []
    zone = ZoneInfo(department.timezone)
    span = [*earlier, (since, until)]
    periods = [stats.period_figures(department=department.name, since=a, until=b) for a, b in span]
    for (start, _), figures in zip(span, periods, strict=True):
        weeks.append(
            WeekScores(
                week_start=start.astimezone(zone).date().isoformat(),
                nps=net_promoter_score(figures.nps_scores),
                csat=csat_percent(figures.csat_scores),
                responses=max(len(figures.nps_scores), len(figures.csat_scores)),
            )
        )
    this_week = periods[-1]  # the report's own week, read once above
    reacted = [s for s in week if s.reactions > 0]
    top = max(reacted, key=lambda s: (s.reactions, -s.story_id), default=None)
    return PatternReport(
        department=department.name,
        week_start=since,
        week_end=until,
        stories=len(week),
        patterns=tuple(patterns),
        weeks=tuple(weeks),
        commitments_opened=this_week.commitments_opened,
        commitments_closed=this_week.commitments_closed,
        top_story=TopStory(top.story_id, top.title, top.reactions) if top else None,
        timezone=department.timezone,
        proofs=tuple(proofs(department, until)) if proofs is not None else (),
    )


def _theme_patterns(week: Sequence[PatternStory], before: Sequence[Sequence[PatternStory]]) -> list[Pattern]:
    counts = Counter(theme for s in week for theme in dict.fromkeys(s.themes))
    result = []
    for theme, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_THEMES]:
        members = [(s, content_words(s.text)) for s in week if theme in s.themes]
        previous = sum(sum(1 for s in stories if theme in s.themes) for stories in before) / len(before)
        quoted = representative(members)
        result.append(Pattern(theme, "theme", count, previous, _quote(quoted), quoted.story_id))
    return result


def _similar_patterns(week: Sequence[PatternStory], before: Sequence[Sequence[PatternStory]]) -> list[Pattern]:
    result: list[Pattern] = []
    for group in similar_groups(week):
        if len(group.members) < 2 or len(result) == MAX_GROUPS:
            continue
        matches = sum(1 for stories in before for s in stories if _similar(content_words(s.text), group.core))
        quoted = representative(group.members)
        result.append(
            Pattern(group.label, "similar", len(group.members), matches / len(before), _quote(quoted), quoted.story_id)
        )
    return result


# --- planning ------------------------------------------------------------------------------------------------


def report_slot(department: Department, *, now: datetime) -> Slot | None:
    """The latest report slot at or before ``now`` (a report missed in downtime is caught up until the next)."""
    return Schedule(REPORT_SCHEDULE, department.timezone).latest_slot(now)


def report_key(*, department: str, platform: str, slot: Slot) -> str:
    return f"report:{department}:{platform}:{slot.label}"


def plan_reports(
    *,
    department: Department,
    channels: Mapping[str, str],
    stories: PatternStories,
    stats: StatsReader,
    now: datetime,
    planned: Iterable[str] = (),
    proofs: Proofs | None = None,
) -> list[Outgoing]:
    """This week's report for each platform the department has a channel on, unless already ``planned`` (keys)
    or the week had no stories."""
    slot = report_slot(department, now=now)
    if slot is None:
        return []
    done = set(planned)
    wanted = {
        p: c
        for p, c in sorted(channels.items())
        if c and report_key(department=department.name, platform=p, slot=slot) not in done
    }
    if not wanted:
        return []
    since, until = report_week(department, slot=slot)
    report = build_report(department=department, since=since, until=until, stories=stories, stats=stats, proofs=proofs)
    if report.stories == 0:
        return []
    payload = report.to_payload()
    return [
        Outgoing(
            key=report_key(department=department.name, platform=platform, slot=slot),
            kind="report",
            platform=platform,
            channel=channel,
            department=department.name,
            payload=payload,
        )
        for platform, channel in wanted.items()
    ]


def report_summary(report: PatternReport) -> list[str]:
    """The report's facts as plain lines (renderers lay them out; the wording is decided once, here)."""
    zone = ZoneInfo(report.timezone)
    first = report.week_start.astimezone(zone)
    last = (report.week_end - timedelta(seconds=1)).astimezone(zone)
    lines = [f"{report.department}: the week of {first:%a %d %b} to {last:%a %d %b %Y}, {report.stories} stories"]
    current = report.weeks[-1] if report.weeks else None
    if current is not None:
        nps = "n/a" if current.nps is None else f"{current.nps:+.0f}"
        csat = "n/a" if current.csat is None else f"{current.csat:.0f}%"
        trend = _trend(report.weeks)
        lines.append(f"NPS {nps} · CSAT {csat} ({current.responses} responses){trend}")
    lines.append(f"Commitments: {report.commitments_opened} opened, {report.commitments_closed} closed")
    if report.top_story is not None:
        reactions = "reaction" if report.top_story.reactions == 1 else "reactions"
        lines.append(f"Most reactions: “{report.top_story.title}” ({report.top_story.reactions} {reactions})")
    return lines


def pattern_line(pattern: Pattern) -> str:
    """'late delivery: 6 stories (+50% on the 4-week average)' / '...: 2 stories (new)'."""
    noun = "story" if pattern.count == 1 else "stories"
    change = pattern.change
    against = change if change in ("new", "same") else f"{change} on the 4-week average"
    return f"{pattern.label}: {pattern.count} {noun} ({against})"


def _trend(weeks: Sequence[WeekScores]) -> str:
    known = [w.nps for w in weeks[:-1] if w.nps is not None]
    if not known or weeks[-1].nps is None:
        return ""
    average = sum(known) / len(known)
    return f"; NPS {weeks[-1].nps - average:+.0f} on the 4-week average of {average:+.0f}"
