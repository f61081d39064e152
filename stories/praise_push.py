"""The week's customer praise that names an employee, pushed to the CX team with a "Give kudos" button.

Planned by the scheduler's sweep (stories.planning.Planner) from Monday at ``kudos.praise_hour`` in the default
department's timezone: praise from the seven days before that moment, stories already thanked and opted-out
names left out (stories.kudos.praise_suggestions). One delivery per platform whose ``kudos.praise_*_channel``
is set, keyed by the ISO week, so planning again that week (every sweep, a second replica, a restart) is a
no-op. A week without praise posts nothing. The button gives kudos through the neutral action ``give_kudos``
(stories.actions), linked to the praise story.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from stories.config import CxConfig
from stories.kudos import KudosStore, praise_suggestions
from stories.outbox import Outgoing
from stories.views import PraiseSuggestion, PraiseView

WEEK = timedelta(days=7)
PUSH_SIZE = 12  # suggestions in one push: each takes four blocks on Slack (50 at most)


def praise_slot(config: CxConfig, now: datetime) -> datetime:
    """The latest Monday ``praise_hour`` (default department's wall clock) at or before ``now``, as an instant."""
    zone = ZoneInfo(config.department(config.default_department).timezone)
    local = now.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=config.kudos.praise_hour, minute=0, second=0, microsecond=0
    )
    if monday > local:
        monday -= WEEK
    return monday


def praise_channels(config: CxConfig, platforms: Sequence[str]) -> dict[str, str]:
    channels = {"slack": config.kudos.praise_slack_channel, "teams": config.kudos.praise_teams_channel}
    return {p: c for p, c in channels.items() if c and p in platforms}


def praise_keys(config: CxConfig, now: datetime, platforms: Sequence[str]) -> dict[str, str]:
    """``platform -> delivery key`` of this week's push: what the planner asks the outbox about first."""
    year, week, _ = praise_slot(config, now).isocalendar()
    return {p: f"praise:{year}-W{week:02d}:{p}:{c}" for p, c in praise_channels(config, platforms).items()}


def plan_praise(
    *,
    config: CxConfig,
    store: KudosStore,
    now: datetime,
    platforms: Sequence[str],
    planned: Collection[str] = (),
) -> list[Outgoing]:
    """This week's push, one delivery per platform with a praise channel; nothing if there is no praise, and
    nothing read when every key is already ``planned`` (the sweep asks every few minutes)."""
    channels = praise_channels(config, platforms)
    keys = praise_keys(config, now, platforms)
    if not channels or all(key in planned for key in keys.values()):
        return []
    slot = praise_slot(config, now)
    view = praise_suggestions(store=store, since=slot - WEEK, until=slot, limit=PUSH_SIZE, days=7)
    if not view.items:
        return []
    return [
        Outgoing(
            key=keys[platform],
            kind="praise",
            platform=platform,
            channel=channel,
            payload=to_payload(view),
        )
        for platform, channel in channels.items()
    ]


def to_payload(view: PraiseView) -> dict[str, Any]:
    items = [
        {"story_id": i.story_id, "story_title": i.story_title, "names": list(i.names), "quote": i.quote}
        for i in view.items
    ]
    return {"days": view.days, "items": items}


def from_payload(payload: Mapping[str, Any]) -> PraiseView:
    items = tuple(
        PraiseSuggestion(
            story_id=int(i["story_id"]),
            story_title=str(i.get("story_title") or ""),
            names=tuple(str(n) for n in i.get("names", ())),
            quote=str(i.get("quote") or ""),
        )
        for i in payload.get("items", ())
    )
    return PraiseView(items=items, days=int(payload.get("days", 7)))
