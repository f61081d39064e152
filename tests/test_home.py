"""stories.home: one home for both platforms: the person's own commitments, kudos to them, and their
departments' latest stories (each once, newest first, at most eight, the last 14 days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from stories.actors import Actor
from stories.config import CxConfig, Department
from stories.home import MAX_STORIES, STORY_DAYS, build_home
from stories.models import StoryView
from stories.views import CommitmentItem, KudosView

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CONFIG = CxConfig(
    default_department="CX",
    departments=(
        Department(name="CX"),
        Department(name="Finance", managers=("fiona@contoso.com",)),
        Department(name="Billing", ambassadors=("F1",)),
    ),
)


def _story(story_id: int, hours_ago: int) -> StoryView:
    return StoryView(
        story_id=story_id,
        title=f"Story {story_id}",
        text="text",
        sentiment="negative",
        sentiment_score=-0.4,
        source="survey",
        received_at=NOW - timedelta(hours=hours_ago),
    )


class Reader:
    def __init__(self) -> None:
        self.asked: list[tuple[str, datetime, datetime]] = []

    def open_commitments(
        self, *, today: date, departments: tuple[str, ...] | None = None, owner: str | None = None
    ) -> list[CommitmentItem]:
        assert departments is None and today == date(2026, 3, 2)
        return [
            CommitmentItem(
                id=n,
                story_id=None,
                story_title=None,
                department=None,
                owner=str(owner),
                what=f"thing {n}",
                due=None,
                age_days=0,
                overdue=False,
                state="open",
                platform="teams",
                due_label="no due date",
            )
            for n in range(12)
        ]

    def kudos_received(self, receiver: str, *, platform: str, limit: int = 10) -> list[KudosView]:
        return [KudosView(giver="C1", receiver=receiver, why=f"{platform} thanks")][:limit]

    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]:
        self.asked.append((department, since, until))
        shared = [_story(1, 5)]  # routed to both departments
        own = (
            [_story(10 + n, n) for n in range(6)]
            if department == "Finance"
            else [_story(20 + n, 30 + n) for n in range(6)]
        )
        return shared + own


def test_a_home_holds_the_persons_own_items_and_their_departments_latest_stories_once_each() -> None:
    reader = Reader()
    actor = Actor(platform="teams", user_id="F1", aliases=frozenset({"fiona@contoso.com"}))
    home = build_home(config=CONFIG, reader=reader, stories=reader, actor=actor, today=date(2026, 3, 2), now=NOW)
    assert home.departments == ("Finance", "Billing")  # manager by UPN, ambassador by id
    assert [c.owner for c in home.commitments] == ["F1"] * 8
    assert home.kudos == (KudosView(giver="C1", receiver="F1", why="teams thanks"),)
    ids = [s.story_id for s in home.stories]
    assert len(ids) == MAX_STORIES == len(set(ids))
    assert ids == [10, 11, 12, 13, 14, 1, 15, 20]  # newest first, the shared story once
    assert {(since, until) for _, since, until in reader.asked} == {(NOW - timedelta(days=STORY_DAYS), NOW)}


def test_someone_who_manages_nothing_gets_no_department_stories() -> None:
    reader = Reader()
    home = build_home(
        config=CONFIG,
        reader=reader,
        stories=reader,
        actor=Actor(platform="slack", user_id="U0NOBODY01"),
        today=date(2026, 3, 2),
        now=NOW,
    )
    assert home.departments == () and home.stories == () and reader.asked == []
