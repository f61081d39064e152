"""Did the fix work (stories/fixproof.py): synthetic streams of comments around a commitment closed as done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from stories.config import CxConfig, Department, QuietHours
from stories.fixproof import (
    ClosedFix,
    FollowedComment,
    judge,
    plan_verdicts,
    proof_line,
    prove,
    report_lines,
)
from stories.followup import StoryPlace

CLOSED = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)
INVOICE = "The invoice template shows the wrong total and VAT line"
CONFIG = CxConfig(
    default_department="CX",
    departments=(Department(name="CX"), Department(name="Finance", timezone="Europe/London")),
)


def fix(*, themes: tuple[str, ...] = ("invoice",), text: str = INVOICE, closed: datetime = CLOSED) -> ClosedFix:
    return ClosedFix(
        commitment_id=7,
        story_id=1,
        department="Finance",
        owner_name="Dana",
        what="fix the invoice template",
        closed_at=closed,
        themes=themes,
        text=text,
    )


@dataclass
class Stream:
    """An in-memory FixProofStore: comments at chosen times, one closed fix, where its story was posted."""

    fixes: list[ClosedFix] = field(default_factory=list)
    comments: list[tuple[str, FollowedComment]] = field(default_factory=list)
    places: list[StoryPlace] = field(default_factory=lambda: [StoryPlace("slack", "C0FIN", "Finance")])
    next_id: int = 100

    def add(
        self, count: int, *, start: datetime, days: float, themes=("invoice",), text="", department="Finance"
    ) -> None:  # type: ignore[no-untyped-def]
        """``count`` comments spread evenly over ``days`` from ``start``."""
        for n in range(count):
            self.next_id += 1
            at = start + timedelta(days=days * (n + 0.5) / count)
            self.comments.append((department, FollowedComment(self.next_id, at, tuple(themes), text or "about it")))

    def weekly(self, per_week: int, *, weeks: int, start: datetime, **kw) -> None:  # type: ignore[no-untyped-def]
        for week in range(weeks):
            self.add(per_week, start=start + timedelta(days=7 * week), days=7, **kw)

    def closed_fixes(self, *, department: str | None, since: datetime, until: datetime) -> list[ClosedFix]:
        return [f for f in self.fixes if since <= f.closed_at < until and department in (None, f.department)]

    def followed_comments(self, *, department: str, since: datetime, until: datetime) -> list[FollowedComment]:
        return [c for d, c in self.comments if d == department and since <= c.written_at < until]

    def story_places(self, story_id: int) -> list[StoryPlace]:
        return list(self.places)

    def department_channels(self, department: str) -> dict[str, str]:
        return {"teams": "19:finance"}


def test_a_theme_that_falls_is_said_to_have_fallen_from_and_to_its_weekly_rate() -> None:
    stream = Stream()
    stream.weekly(12, weeks=4, start=CLOSED - timedelta(days=28))
    stream.weekly(3, weeks=4, start=CLOSED)
    proof = prove(fix(), store=stream, now=CLOSED + timedelta(days=29))
    assert (proof.before, proof.after, proof.outcome, proof.final) == (48, 12, "fell", True)
    assert proof_line(proof, timezone="Europe/London") == (
        "Since Dana closed “fix the invoice template” (12 Nov), invoice comments fell from 12 to 3 a week."
    )


def test_a_theme_that_holds_steady_did_not_change() -> None:
    stream = Stream()
    stream.weekly(10, weeks=4, start=CLOSED - timedelta(days=28))
    stream.weekly(9, weeks=4, start=CLOSED)
    proof = prove(fix(), store=stream, now=CLOSED + timedelta(days=28))
    assert proof.outcome == "unchanged"
    assert proof_line(proof).endswith("invoice comments did not change (10 a week before, 9 since).")


def test_too_few_comments_is_too_early_to_tell_and_then_too_few_to_tell() -> None:
    stream = Stream()
    stream.add(3, start=CLOSED - timedelta(days=28), days=28)
    stream.add(2, start=CLOSED, days=9)
    early = prove(fix(), store=stream, now=CLOSED + timedelta(days=10))
    late = prove(fix(), store=stream, now=CLOSED + timedelta(days=30))
    assert early.outcome == late.outcome == "too_few"
    assert proof_line(early).endswith(": too early to tell: 2 comments since (3 in the four weeks before).")
    assert proof_line(late).endswith(
        ": too few invoice comments to tell (3 in the four weeks before, 2 in the four weeks since)."
    )


def test_so_far_compares_the_rate_over_the_days_since_the_close() -> None:
    stream = Stream()
    stream.weekly(12, weeks=4, start=CLOSED - timedelta(days=28))
    stream.weekly(2, weeks=2, start=CLOSED)
    proof = prove(fix(), store=stream, now=CLOSED + timedelta(days=14))
    assert (proof.after, proof.days_after, proof.outcome, proof.final) == (4, 14, "fell", False)
    assert proof_line(proof).endswith("invoice comments fell so far from 12 to 2 a week.")


def test_a_theme_that_rises_is_said_to_have_risen() -> None:
    stream = Stream()
    stream.weekly(2, weeks=4, start=CLOSED - timedelta(days=28))
    stream.weekly(8, weeks=4, start=CLOSED)
    proof = prove(fix(), store=stream, now=CLOSED + timedelta(days=28))
    assert proof_line(proof).endswith("invoice comments rose from 2 to 8 a week.")


def test_similar_comments_count_without_a_theme_and_unrelated_ones_do_not() -> None:
    stream = Stream()
    similar = "Wrong total on the invoice again, the VAT line is missing"
    stream.weekly(6, weeks=4, start=CLOSED - timedelta(days=28), themes=(), text=similar)
    stream.weekly(6, weeks=4, start=CLOSED - timedelta(days=28), themes=(), text="Parcel arrived late and broken")
    stream.weekly(6, weeks=4, start=CLOSED - timedelta(days=28), themes=("invoice",), text=similar, department="CX")
    stream.weekly(1, weeks=4, start=CLOSED, themes=(), text=similar)
    proof = prove(fix(themes=()), store=stream, now=CLOSED + timedelta(days=28))
    assert (proof.before, proof.after, proof.outcome) == (24, 4, "fell")
    assert "comments like its story fell from 6 to 1 a week" in proof_line(proof)


def test_the_fixed_story_itself_is_not_counted() -> None:
    stream = Stream()
    stream.comments.append(("Finance", FollowedComment(1, CLOSED - timedelta(days=1), ("invoice",), INVOICE)))
    assert prove(fix(), store=stream, now=CLOSED + timedelta(days=1)).before == 0


@pytest.mark.parametrize(
    ("before", "after", "days", "outcome"),
    [
        (4, 3, 28, "too_few"),  # 7 comments: below the minimum of 8
        (8, 0, 28, "fell"),  # P(X <= 0 | n=8, p=.5) = 0.004
        (6, 2, 28, "unchanged"),  # P(X <= 2 | n=8, p=.5) = 0.145
        (20, 10, 28, "fell"),  # P(X <= 10 | n=30, p=.5) = 0.049, just under 0.05
        (19, 11, 28, "unchanged"),  # P(X <= 11 | n=30, p=.5) = 0.100
    ],
)
def test_the_rule_is_a_stated_binomial_test_with_a_minimum(before: int, after: int, days: int, outcome: str) -> None:
    assert judge(before=before, after=after, days_after=days)[0] == outcome


def test_the_rule_adjusts_for_a_shorter_time_since() -> None:
    # 12 a week before; 4 in the 7 days since is a third of the rate but one week is little evidence
    assert judge(before=48, after=4, days_after=7)[0] == "fell"
    assert judge(before=48, after=9, days_after=7)[0] == "unchanged"


def test_the_verdict_is_planned_once_four_weeks_after_the_close_in_the_stories_threads() -> None:
    stream = Stream(fixes=[fix()])
    stream.places.append(StoryPlace("teams", "19:finance", "Finance"))
    stream.weekly(12, weeks=4, start=CLOSED - timedelta(days=28))
    stream.weekly(3, weeks=4, start=CLOSED)
    queued: set[str] = set()

    def plan(now: datetime) -> list:  # type: ignore[type-arg]
        items = plan_verdicts(config=CONFIG, store=stream, now=now, queued=lambda keys: queued & set(keys))
        queued.update(i.key for i in items)
        return items

    assert plan(CLOSED + timedelta(days=27)) == []  # not yet: no verdict before four weeks
    first = plan(CLOSED + timedelta(days=28, minutes=5))
    again = plan(CLOSED + timedelta(days=28, minutes=10))
    assert again == []
    assert sorted((i.key, i.kind, i.channel, i.story_id) for i in first) == [
        ("fixproof:7:slack:C0FIN", "reply", "C0FIN", 1),
        ("fixproof:7:teams:19:finance", "reply", "19:finance", 1),
    ]
    assert {i.payload["text"] for i in first} == {
        "Since Dana closed “fix the invoice template” (12 Nov), invoice comments fell from 12 to 3 a week."
    }


def test_a_verdict_due_in_quiet_hours_waits_for_them_to_end() -> None:
    quiet = CxConfig(
        default_department="CX",
        departments=(
            Department(name="CX"),
            Department(name="Finance", quiet_hours=QuietHours(start="20:00", end="08:00")),  # type: ignore[arg-type]
        ),
    )
    stream = Stream(fixes=[fix(closed=datetime(2026, 11, 12, 22, 0, tzinfo=UTC))])
    now = datetime(2026, 12, 10, 22, 30, tzinfo=UTC)
    (item,) = plan_verdicts(config=quiet, store=stream, now=now, queued=lambda keys: ())
    assert item.not_before == datetime(2026, 12, 11, 8, 0, tzinfo=UTC)


def test_the_weekly_report_says_so_far_for_recent_fixes_and_the_verdict_for_four_week_old_ones() -> None:
    older = ClosedFix(
        8, 2, "Finance", "Ann", "reword the dunning letter", CLOSED - timedelta(days=25), ("dunning",), "x"
    )
    stream = Stream(fixes=[fix(), older])
    stream.add(2, start=CLOSED, days=5)
    lines = report_lines(store=stream, department="Finance", until=CLOSED + timedelta(days=6), timezone="UTC")
    assert lines == (
        "Since Dana closed “fix the invoice template” (12 Nov): too early to tell: 2 comments since "
        "(0 in the four weeks before).",
        "Since Ann closed “reword the dunning letter” (18 Oct): too few dunning comments to tell "
        "(0 in the four weeks before, 0 in the four weeks since).",
    )


def test_a_verdict_missed_for_more_than_three_days_is_not_posted_late() -> None:
    stream = Stream(fixes=[fix()])
    late = plan_verdicts(config=CONFIG, store=stream, now=CLOSED + timedelta(days=31, hours=1), queued=lambda k: ())
    in_time = plan_verdicts(config=CONFIG, store=stream, now=CLOSED + timedelta(days=30, hours=23), queued=lambda k: ())
    assert late == [] and len(in_time) == 1


def test_a_story_posted_nowhere_gets_its_verdict_in_the_departments_channel() -> None:
    stream = Stream(fixes=[fix()], places=[])
    now = CLOSED + timedelta(days=28, minutes=1)
    (item,) = plan_verdicts(config=CONFIG, store=stream, now=now, queued=lambda k: ())
    assert (item.key, item.platform, item.channel) == ("fixproof:7:teams:19:finance", "teams", "19:finance")
