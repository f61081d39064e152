"""The outbox: everything the bot posts is first written down as an intended delivery with an idempotency key.

Planning the same delivery twice is a no-op (the key is unique), and a dispatcher claims, sends and records
each one, so a retry, a restart or a second replica never posts twice and never loses a post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from stories.places import SEPARATOR, split_places

DeliveryKind = Literal["story", "digest", "reply", "dm", "text", "update", "report", "erase", "surge", "praise"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the bot intends to post.

    ``channel`` is the channel or conversation id (for ``dm`` the user id). Payload by kind: reply/dm/text
    ``{"text": ...}``; update ``{"note": ...}``; digest ``{"story_ids": [...], "since": iso, "until": iso,
    "total": n}``; report: a :class:`stories.patterns.PatternReport` as ``to_payload()`` gives it; erase ``{"action": "delete" |
    "digest", "message_id": ..., "digest_key": ...}`` (:mod:`stories.erasure`); surge: a
    :class:`stories.surge.Surge` as ``to_payload()`` gives it; praise: :func:`stories.praise_push.to_payload`.
    """

    key: str
    kind: DeliveryKind
    platform: str
    channel: str
    story_id: int | None = None
    department: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    urgent: bool = False  # claimed and sent before the others when a platform's pace holds them back


def one_per_place(items: Sequence[Outgoing]) -> list[Outgoing]:
    """A delivery to a department with a channel in each Slack workspace (``"T0A/C1,T0B/C2"``) becomes one per
    channel. The first keeps the key (so "already queued?" look-ups by key still answer), the others add their
    channel to it: each is its own idempotent delivery, posted with its own workspace's token.

    >>> [(o.key, o.channel) for o in one_per_place([Outgoing(key="k", kind="story", platform="slack", channel="T0A/C1,T0B/C2")])]
    [('k', 'T0A/C1'), ('k@T0B/C2', 'T0B/C2')]
    """
    result: list[Outgoing] = []
    for item in items:
        places = split_places(item.channel) if SEPARATOR in item.channel else [item.channel]
        for index, place in enumerate(places):
            key = item.key if index == 0 else f"{item.key}@{place}"
            result.append(item if len(places) == 1 else replace(item, key=key, channel=place))
    return result


class OutboxWriter(Protocol):
    def enqueue(self, items: Sequence[Outgoing]) -> int:
        """Queue ``items``, skipping keys already queued; returns how many were new."""
        ...


class RecordingOutbox:
    """An in-memory OutboxWriter with the same idempotency, for the core's own unit tests and dry runs."""

    def __init__(self) -> None:
        self.items: dict[str, Outgoing] = {}

    def enqueue(self, items: Sequence[Outgoing]) -> int:
        new = [i for i in one_per_place(items) if i.key not in self.items]
        self.items.update((i.key, i) for i in new)
        return len(new)


def story_deliveries(
    *,
    story_id: int,
    departments: Iterable[str],
    channels: Mapping[tuple[str, str], str],
    not_before: datetime | None = None,
    urgent: bool = False,
) -> list[Outgoing]:
    """A story posted to each department's channel on each platform that has one.

    ``channels`` maps ``(department, platform)`` to a channel id; departments without one are skipped.

    >>> [o.key for o in story_deliveries(story_id=7, departments=["Legal"], channels={("Legal", "slack"): "C1"})]
    ['story:7:Legal:slack:C1']
    """
    result = []
    for department in departments:
        for (dept, platform), channel in channels.items():
            if dept == department and channel:
                result.append(
                    Outgoing(
                        key=f"story:{story_id}:{department}:{platform}:{channel}",
                        kind="story",
                        platform=platform,
                        channel=channel,
                        story_id=story_id,
                        department=department,
                        not_before=not_before,
                        urgent=urgent,
                    )
                )
    return result
