"""Proof a fix worked: after a commitment closes as done, did the comments behind it become fewer?

What is followed: the comments routed to the commitment's department that carry one of its story's routing themes
(``Story.themes``, from the rules' ``theme``) or are *similar* to its story's comment (the weekly report's test,
:func:`stories.patterns.is_similar`: Jaccard >= 0.2 on content words, sharing at least two). The story itself is
not counted. A comment counts on the day it was written (``original_at``) when the source says, else the day it
arrived, as surge alerts count it.

The four weeks before the close are compared with the time since, up to four weeks. With ``b`` comments in the
28 days before and ``a`` in the ``t`` days since (``t`` <= 28), the rates are ``b / 4`` and ``a / (t / 7)`` a week.
The rule, an exact conditional test of two Poisson rates: if the rate had not changed, each of the ``n = a + b``
comments would fall after the close with probability ``p = t / (28 + t)``, so ``a`` is Binomial(n, p).

- too few: ``n`` < :data:`MIN_COMMENTS` (8): "too early to tell" (or, at four weeks, "too few to tell");
- fell: P(X <= a) < :data:`ALPHA` (0.05); rose: P(X >= a) < 0.05; otherwise "did not change".

At 28 days the verdict is final and posted once in the commitment's story thread(s) (outbox key
``fixproof:<commitment>:<platform>:<channel>``); before that the department's weekly report shows it "so far".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from stories.config import CxConfig
from stories.followup import StoryPlace
from stories.outbox import Outgoing
from stories.patterns import content_words, is_similar
from stories.presentation import truncate
from stories.schedule import quiet_until

FOLLOW = timedelta(days=28)  # followed this long after the close, against as long before
MIN_COMMENTS = 8  # before and since together, fewer: too few to tell
ALPHA = 0.05  # one-sided
CATCH_UP = timedelta(days=3)  # a verdict missed in downtime is still posted this long after it was due
REPORT_WINDOW = FOLLOW + timedelta(days=7)  # the weekly report shows fixes closed this long before its end
MAX_REPORT_LINES = 5
WHAT = 80  # characters of the commitment quoted

Outcome = Literal["too_few", "fell", "rose", "unchanged"]


@dataclass(frozen=True, slots=True)
class ClosedFix:
    """A commitment closed as done, with what its story is about."""

    commitment_id: int
    story_id: int
    department: str
    owner_name: str | None
    what: str  # redacted when it was made
    closed_at: datetime
    themes: tuple[str, ...]
    text: str  # the story's comment, redacted


@dataclass(frozen=True, slots=True)
class FollowedComment:
    story_id: int
    written_at: datetime
    themes: tuple[str, ...]
    text: str  # redacted


class FixProofStore(Protocol):
    def closed_fixes(self, *, department: str | None, since: datetime, until: datetime) -> list[ClosedFix]:
        """Commitments closed as done in ``[since, until)`` (a department's, or all) whose story still exists."""
        ...

    def followed_comments(self, *, department: str, since: datetime, until: datetime) -> list[FollowedComment]:
        """Comments routed to ``department`` written in ``[since, until)``."""
        ...

    def story_places(self, story_id: int) -> list[StoryPlace]: ...

    def department_channels(self, department: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Proof:
    fix: ClosedFix
    before: int  # comments in the four weeks before the close
    after: int  # comments since, up to four weeks
    days_after: float  # how long "since" is (at most 28)
    outcome: Outcome
    p_value: float | None

    @property
    def final(self) -> bool:
        return self.days_after >= FOLLOW.days

    @property
    def rate_before(self) -> float:
        return self.before / (FOLLOW.days / 7)

    @property
    def rate_after(self) -> float:
        return self.after / (self.days_after / 7) if self.days_after > 0 else 0.0


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p).

    >>> round(binomial_cdf(1, 4, 0.5), 4)
    0.3125
    """
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1)))


def judge(*, before: int, after: int, days_after: float) -> tuple[Outcome, float | None]:
    """The rule in the module docstring: too few, fell, rose or unchanged, with the one-sided p-value used."""
    n = before + after
    if n < MIN_COMMENTS or days_after <= 0:
        return "too_few", None
    p = days_after / (FOLLOW.days + days_after)
    fell = binomial_cdf(after, n, p)
    if fell < ALPHA:
        return "fell", fell
    rose = 1.0 - binomial_cdf(after - 1, n, p)
    if rose < ALPHA:
        return "rose", rose
    return "unchanged", min(fell, rose)


def follows(fix: ClosedFix, comment: FollowedComment) -> bool:
    """Whether a comment is about what the fix was for: a theme of its story, or similar words."""
    if comment.story_id == fix.story_id:
        return False
    if set(fix.themes) & set(comment.themes):
        return True
    return is_similar(content_words(comment.text), content_words(fix.text))


def prove(fix: ClosedFix, *, store: FixProofStore, now: datetime) -> Proof:
    """How the fix's comments went from the four weeks before its close to the time since (up to four weeks)."""
    end = min(now, fix.closed_at + FOLLOW)
    comments = store.followed_comments(department=fix.department, since=fix.closed_at - FOLLOW, until=end)
    followed = [c for c in comments if follows(fix, c)]
    before = sum(1 for c in followed if c.written_at < fix.closed_at)
    after = len(followed) - before
    days_after = max((end - fix.closed_at).total_seconds() / 86400, 0.0)
    outcome, p_value = judge(before=before, after=after, days_after=days_after)
    return Proof(fix=fix, before=before, after=after, days_after=days_after, outcome=outcome, p_value=p_value)


def _rate(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _subject(fix: ClosedFix) -> str:
    return f"{' / '.join(fix.themes)} comments" if fix.themes else "comments like its story"


def proof_line(proof: Proof, *, timezone: str = "UTC") -> str:
    """The plain sentence, the same in the thread and the weekly report.

    "Since Dana closed “fix the invoice template” (12 Nov), billing comments fell from 12 to 3 a week."
    """
    fix = proof.fix
    day = fix.closed_at.astimezone(ZoneInfo(timezone))
    who = fix.owner_name or "a colleague"
    opening = f"Since {who} closed “{truncate(fix.what, WHAT)}” ({day.day} {day:%b})"
    subject = _subject(fix)
    so_far = "" if proof.final else " so far"
    comments = "comment" if proof.after == 1 else "comments"
    if proof.outcome == "too_few":
        if proof.final:
            return (
                f"{opening}: too few {subject} to tell "
                f"({proof.before} in the four weeks before, {proof.after} in the four weeks since)."
            )
        return (
            f"{opening}: too early to tell: {proof.after} {comments} since ({proof.before} in the four weeks before)."
        )
    before, after = _rate(proof.rate_before), _rate(proof.rate_after)
    if proof.outcome == "fell":
        return f"{opening}, {subject} fell{so_far} from {before} to {after} a week."
    if proof.outcome == "rose":
        return f"{opening}, {subject} rose{so_far} from {before} to {after} a week."
    return f"{opening}, {subject} did not change{so_far} ({before} a week before, {after} since)."


def proof_key(*, commitment_id: int, platform: str, channel: str) -> str:
    return f"fixproof:{commitment_id}:{platform}:{channel}"


def _places(store: FixProofStore, fix: ClosedFix) -> list[StoryPlace]:
    """Every message showing the story (the commitment's thread is under them); none: the department's channels."""
    places = {(p.platform, p.channel): p for p in store.story_places(fix.story_id)}
    if not places:
        for platform, channel in store.department_channels(fix.department).items():
            if channel:
                places[(platform, channel)] = StoryPlace(platform, channel, fix.department)
    return list(places.values())


def plan_verdicts(
    *,
    config: CxConfig,
    store: FixProofStore,
    now: datetime,
    departments: Sequence[str] | None = None,
    queued: Callable[[Sequence[str]], Iterable[str]],
) -> list[Outgoing]:
    """Final verdicts now due (four weeks after a close, caught up for :data:`CATCH_UP`), as replies in the
    story's thread(s), once each. A verdict is computed only when one of its keys is not queued yet."""
    names: Iterable[str | None] = departments if departments is not None else (None,)
    result: list[Outgoing] = []
    for name in names:
        for fix in store.closed_fixes(department=name, since=now - FOLLOW - CATCH_UP, until=now - FOLLOW):
            places = _places(store, fix)
            keys = {
                proof_key(commitment_id=fix.commitment_id, platform=p.platform, channel=p.channel): p for p in places
            }
            done = queued(list(keys))
            wanted = {k: p for k, p in keys.items() if k not in done}
            if not wanted:
                continue
            department = config.department(fix.department)
            zone = ZoneInfo(department.timezone)
            text = proof_line(prove(fix, store=store, now=now), timezone=department.timezone)
            held = quiet_until(department.quiet_hours, zone=zone, moment=now)
            result.extend(
                Outgoing(
                    key=key,
                    kind="reply",
                    platform=place.platform,
                    channel=place.channel,
                    story_id=fix.story_id,
                    department=fix.department,
                    payload={"text": text},
                    not_before=held,
                )
                for key, place in wanted.items()
            )
    return result


def report_lines(*, store: FixProofStore, department: str, until: datetime, timezone: str) -> tuple[str, ...]:
    """The weekly report's lines for fixes the department closed in the five weeks before ``until``: final
    verdicts for those four weeks old, "so far" for the others (most recent first, at most five)."""
    fixes = store.closed_fixes(department=department, since=until - REPORT_WINDOW, until=until)
    fixes = sorted(fixes, key=lambda f: (f.closed_at, f.commitment_id), reverse=True)[:MAX_REPORT_LINES]
    return tuple(proof_line(prove(fix, store=store, now=until), timezone=timezone) for fix in fixes)
