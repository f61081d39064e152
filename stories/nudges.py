"""Reminders about commitments, on each department's clock.

- Nudges: at ``nudges.hour`` local time, each open commitment due tomorrow or overdue gets one DM to its owner a
  day (the message itself is :func:`stories.followup.nudge_messages`; none on weekends unless configured).
- Weekly summary: on Monday at the same hour, each department's managers and ambassadors get a DM listing the
  department's open and overdue commitments.

Both are planned from state and the clock, with the day (or the week's slot) in the key, so a scheduler that
wakes twice, a second replica, or a catch-up after downtime never sends one twice. A missed weekly summary is
caught up the same day only: after that it would no longer be Monday's news.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from stories.actors import is_slack_user
from stories.config import CxConfig, Department
from stories.followup import nudge_messages, weekly_summary
from stories.outbox import Outgoing
from stories.schedule import Schedule, Slot
from stories.views import COMMAND_PREFIX, CommitmentItem

SUMMARY_ITEMS = 15  # commitments listed in a summary; the rest are counted
SUMMARY_CATCH_UP = timedelta(days=1)


class CommitmentReader(Protocol):
    def due_for_nudge(self, today: date) -> list[CommitmentItem]:
        """Open commitments due by tomorrow (overdue included) not yet nudged on ``today``."""
        ...

    def open_commitments(
        self, *, today: date, departments: Sequence[str] | None = None, owner: str | None = None
    ) -> list[CommitmentItem]: ...


@dataclass
class NudgePlan:
    """The DMs to queue, and per local day the commitments they nudge (to mark once queued)."""

    messages: list[Outgoing] = field(default_factory=list)
    nudged: dict[date, list[int]] = field(default_factory=dict)


def user_platform(user_id: str) -> str:
    """Slack user ids look like ``U0123ABCD`` (``W...`` on Enterprise Grid); anything else is a Teams user."""
    return "slack" if is_slack_user(user_id) else "teams"


def reminder_day(department: Department, *, hour: int, now: datetime) -> date | None:
    """The department's local date once its reminder hour has come, else None."""
    local = now.astimezone(ZoneInfo(department.timezone))
    return local.date() if local.hour >= hour else None


def plan_nudges(
    *, config: CxConfig, store: CommitmentReader, now: datetime, departments: Iterable[str] | None = None
) -> NudgePlan:
    """Today's nudges for the departments whose reminder hour has come (all, or ``departments``)."""
    plan = NudgePlan()
    if not config.nudges.enabled:
        return plan
    wanted = set(departments) if departments is not None else set(config.department_names)
    by_day: dict[date, set[str]] = {}
    for department in config.departments:
        day = reminder_day(department, hour=config.nudges.hour, now=now)
        if day is not None and department.name in wanted:
            by_day.setdefault(day, set()).add(department.name)
    for day, names in sorted(by_day.items()):
        items = [i for i in store.due_for_nudge(day) if (i.department or config.default_department) in names]
        messages = nudge_messages(items, today=day, settings=config.nudges)
        if messages:
            plan.messages.extend(messages)
            plan.nudged[day] = [i.id for i in items if i.state == "open"]
    return plan


def weekly_slot(department: Department, *, hour: int, now: datetime) -> Slot | None:
    """This week's summary slot (Monday, ``hour`` local) if it came within the last day, else None."""
    slot = Schedule(f"0 {hour} * * mon", department.timezone).latest_slot(now)
    return slot if slot is not None and now - slot.at < SUMMARY_CATCH_UP else None


def plan_weekly_summaries(
    *, config: CxConfig, store: CommitmentReader, now: datetime, departments: Iterable[str] | None = None
) -> list[Outgoing]:
    """Monday's DM to each manager and ambassador: the department's open and overdue commitments."""
    if not config.nudges.enabled:
        return []
    wanted = set(departments) if departments is not None else set(config.department_names)
    result: list[Outgoing] = []
    for department in config.departments:
        readers = tuple(dict.fromkeys((*department.managers, *department.ambassadors)))
        if department.name not in wanted or not readers:
            continue
        slot = weekly_slot(department, hour=config.nudges.hour, now=now)
        if slot is None:
            continue
        items = store.open_commitments(today=slot.local.date(), departments=[department.name])
        if not items:
            continue
        for user in readers:
            platform = user_platform(user)
            result.append(
                Outgoing(
                    key=f"summary:{department.name}:{user}:{slot.label}",
                    kind="dm",
                    platform=platform,
                    channel=user,
                    department=department.name,
                    payload={"text": summary_text(department.name, items, platform=platform)},
                )
            )
    return result


def summary_text(department: str, items: Sequence[CommitmentItem], *, platform: str) -> str:
    """The core's weekly summary (:func:`stories.followup.weekly_summary`) and where to see every item.

    >>> summary_text("Finance", [], platform="slack").splitlines()[0]
    'Finance: no open follow-up commitments this week.'
    """
    prefix = COMMAND_PREFIX.get(platform, "cx")
    summary = weekly_summary(department=department, items=items, limit=SUMMARY_ITEMS)
    return f"{summary}\nSee them all with {prefix} actions {department}."
