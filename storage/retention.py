"""The retention window in the database: count, then delete, comments older than the window (stories.retention).

Each batch is one transaction: the counts of the comments about to go are read, the comments deleted (the
schema's cascades take their stories, routes, reactions, story messages, corrections, identifiers and
story deliveries; commitments and kudos lose their link), and the counts of the rows this transaction really
deleted (``DELETE ... RETURNING``) added to ``weekly_figures``. Two replicas running the job at once therefore
never count a comment twice: a row deleted by the other is not returned here. The counters are read with
``FOR UPDATE`` (PostgreSQL) before they are added to. Run again, it finds nothing older and changes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from storage.departments import DepartmentIds
from storage.models import Comment, Delivery, Reaction, Route, Story, StoryMessage, SummaryCache, WeeklyFigures
from storage.upsert import insert_ignore
from stories.retention import ALL, WeekCounts, week_of, weeks_within

BATCH = 500  # comments per transaction


class SqlRetention:
    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    def apply(self, *, before: datetime, batch: int = BATCH) -> dict[str, int]:
        """Delete comments received before ``before`` (their counts kept), old cached summaries and sent weekly
        reports (they quote comments); rows deleted per kind."""
        totals: Counter[str] = Counter()
        while True:
            with self._engine.begin() as conn:
                ids = list(
                    conn.scalars(
                        select(Comment.id).where(Comment.received_at < before).order_by(Comment.id).limit(batch)
                    )
                )
                if not ids:
                    break
                facts = _Facts.read(conn, ids)
                deleted = set(conn.scalars(delete(Comment).where(Comment.id.in_(ids)).returning(Comment.id)))
                counts = facts.counts(deleted, name_of=self._departments.name_of)
                self._add(conn, counts)
                totals["comments"] += len(deleted)
                totals["stories"] += sum(1 for c in deleted if c in facts.story_of)
            if len(ids) < batch:
                break
        with self._engine.begin() as conn:
            totals["summary_cache"] = conn.execute(
                delete(SummaryCache).where(SummaryCache.created_at < before)
            ).rowcount
            totals["reports"] = conn.execute(
                delete(Delivery).where(
                    Delivery.kind == "report", Delivery.state.in_(("sent", "failed")), Delivery.created_at < before
                )
            ).rowcount
        return dict(totals)

    def _add(self, conn: Connection, counts: dict[tuple[date, str], WeekCounts]) -> None:
        if not counts:
            return
        conn.execute(
            insert_ignore(WeeklyFigures, self._dialect),
            [
                {
                    "week_start": week,
                    "department": department,
                    "stories": 0,
                    "nps": {},
                    "csat": {},
                    "stories_delivered": 0,
                    "reactions": 0,
                }
                for week, department in counts
            ],
        )
        for (week, department), add in sorted(counts.items()):
            row = conn.execute(
                select(WeeklyFigures)
                .where(WeeklyFigures.week_start == week, WeeklyFigures.department == department)
                .with_for_update()
            ).one()
            total = _week_counts(row)
            total.add(add)
            conn.execute(
                update(WeeklyFigures)
                .where(WeeklyFigures.id == row.id)
                .values(
                    stories=total.stories,
                    nps={str(k): v for k, v in sorted(total.nps.items())},
                    csat={str(k): v for k, v in sorted(total.csat.items())},
                    stories_delivered=total.stories_delivered,
                    reactions=total.reactions,
                )
            )


def kept_weeks(conn: Connection, *, department: str | None, since: datetime, until: datetime) -> list[WeekCounts]:
    """The counts kept for the whole weeks of ``(since, until]`` (stats add them to their live rows)."""
    first, last = weeks_within(since, until)
    if first > last:
        return []
    rows = conn.execute(
        select(WeeklyFigures).where(
            WeeklyFigures.department == (department or ALL),
            WeeklyFigures.week_start >= first,
            WeeklyFigures.week_start <= last,
        )
    ).all()
    return [_week_counts(row) for row in rows]


def _week_counts(row: Any) -> WeekCounts:
    return WeekCounts(
        stories=int(row.stories),
        nps=Counter({int(k): int(v) for k, v in (row.nps or {}).items()}),
        csat=Counter({int(k): int(v) for k, v in (row.csat or {}).items()}),
        stories_delivered=int(row.stories_delivered),
        reactions=int(row.reactions),
    )


class _Facts:
    """What the counts need from a batch of comments, read before they are deleted."""

    def __init__(self) -> None:
        self.story_of: dict[int, int] = {}  # comment -> story
        self.stories: dict[int, tuple[datetime, int | None, int | None]] = {}  # story -> (created, nps, csat)
        self.routes: dict[int, set[int]] = defaultdict(set)  # story -> department ids
        self.posted: list[tuple[int, int | None, datetime]] = []  # (story, department id, when)
        self.reactions: list[tuple[int, datetime]] = []  # (story, when)

    @classmethod
    def read(cls, conn: Connection, comment_ids: Sequence[int]) -> _Facts:
        facts = cls()
        for comment_id, story_id, created, nps, csat in conn.execute(
            select(Comment.id, Story.id, Story.created_at, Comment.nps, Comment.csat)
            .join(Story, Story.comment_id == Comment.id)
            .where(Comment.id.in_(list(comment_ids)))
        ):
            facts.story_of[comment_id] = story_id
            facts.stories[story_id] = (created, nps, csat)
        stories = list(facts.stories)
        if not stories:
            return facts
        for story_id, department_id in conn.execute(
            select(Route.story_id, Route.department_id).where(Route.story_id.in_(stories))
        ):
            facts.routes[story_id].add(department_id)
        facts.posted = [
            (s, d, w)
            for s, d, w in conn.execute(
                select(StoryMessage.story_id, StoryMessage.department_id, StoryMessage.created_at).where(
                    StoryMessage.story_id.in_(stories)
                )
            )
        ]
        facts.reactions = [
            (s, w)
            for s, w in conn.execute(
                select(Reaction.story_id, Reaction.created_at).where(Reaction.story_id.in_(stories))
            )
        ]
        return facts

    def counts(self, deleted: Iterable[int], *, name_of: Any) -> dict[tuple[date, str], WeekCounts]:
        """Per (week, department) and (week, ``*``), counted as ``storage.followup.period_figures`` counts rows."""
        gone = {self.story_of[c] for c in deleted if c in self.story_of}
        result: dict[tuple[date, str], WeekCounts] = defaultdict(WeekCounts)
        delivered: dict[tuple[date, str], set[int]] = defaultdict(set)

        def places(story: int) -> list[str]:
            return [ALL, *(name_of(d) for d in sorted(self.routes.get(story, ())))]

        for story in gone:
            created, nps, csat = self.stories[story]
            for department in places(story):
                week = result[(week_of(created), department)]
                week.stories += 1
                if nps is not None:
                    week.nps[nps] += 1
                if csat is not None:
                    week.csat[csat] += 1
        for story, department_id, when in self.posted:
            if story in gone:
                delivered[(week_of(when), ALL)].add(story)
                if department_id is not None:
                    delivered[(week_of(when), name_of(department_id))].add(story)
        for key, stories in delivered.items():
            result[key].stories_delivered += len(stories)
        for story, when in self.reactions:
            if story in gone:
                for department in places(story):
                    result[(week_of(when), department)].reactions += 1
        return dict(result)
