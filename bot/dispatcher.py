"""Sends what the outbox holds, through each platform's Notifier, and records where it landed.

Run by ``cxbot serve`` as a background task; any number of replicas may run one, since the database decides
who delivers (claims with leases, see storage/outbox.py). ``kick()`` wakes it right after something is queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter

from storage.outbox import Claimed, SqlOutbox
from storage.stories import SqlStoryReader
from stories.models import DigestView
from stories.ports import DeliveryError, Notifier, PostedMessage

log = logging.getLogger(__name__)

SENT = Counter("cxbot_deliveries_total", "Deliveries by platform, kind and outcome", ["platform", "kind", "outcome"])


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at 30 minutes."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 1800))


class Dispatcher:
    def __init__(
        self,
        *,
        outbox: SqlOutbox,
        stories: SqlStoryReader,
        notifiers: Mapping[str, Notifier],
        instance: str,
        lease: timedelta = timedelta(minutes=2),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox = outbox
        self.stories = stories
        self.notifiers = dict(notifiers)
        self.instance = instance
        self.lease = lease
        self.clock = clock
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def run_once(self, *, limit: int = 50) -> int:
        """Claim and send what is due; returns how many were claimed."""
        claimed = await asyncio.to_thread(
            self.outbox.claim, instance=self.instance, now=self.clock(), lease=self.lease, limit=limit
        )
        for item in claimed:
            await self._send(item)
        return len(claimed)

    async def run_forever(self, stop: asyncio.Event, *, idle: float = 5.0) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("dispatcher pass failed; retrying")
                busy = 0
            if busy:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def _send(self, item: Claimed) -> None:
        notifier = self.notifiers.get(item.platform)
        now = self.clock()
        if notifier is None:
            await asyncio.to_thread(
                self.outbox.mark_failed,
                item,
                instance=self.instance,
                error=f"no notifier for platform {item.platform}",
                now=now,
                retry_at=now + backoff(item.attempts),
            )
            return
        try:
            posted, carried = await self._deliver(notifier, item)
        except DeliveryError as exc:
            retry_at = (
                None if exc.permanent else now + max(backoff(item.attempts), timedelta(seconds=exc.retry_after or 0))
            )
            log.warning("delivery %s (%s) failed: %s", item.id, item.kind, exc)
            SENT.labels(item.platform, item.kind, "permanent_error" if exc.permanent else "retry").inc()
            await asyncio.to_thread(
                self.outbox.mark_failed, item, instance=self.instance, error=str(exc), now=now, retry_at=retry_at
            )
            return
        except Exception as exc:  # a bug or an unexpected platform answer: keep the delivery, retry later
            log.exception("delivery %s (%s) raised", item.id, item.kind)
            SENT.labels(item.platform, item.kind, "retry").inc()
            await asyncio.to_thread(
                self.outbox.mark_failed,
                item,
                instance=self.instance,
                error=f"{type(exc).__name__}: {exc}",
                now=now,
                retry_at=now + backoff(item.attempts),
            )
            return
        recorded = await asyncio.to_thread(
            self.outbox.mark_sent,
            item,
            instance=self.instance,
            message_id=posted.message_id if posted else "",
            now=self.clock(),
            stories=carried,
        )
        SENT.labels(item.platform, item.kind, "sent" if recorded else "lease_lost").inc()
        if not recorded:
            log.warning("delivery %s sent after its lease expired", item.id)

    async def _deliver(
        self, notifier: Notifier, item: Claimed
    ) -> tuple[PostedMessage | None, list[tuple[int, str | None]]]:
        text = str(item.payload.get("text", ""))
        if item.kind == "story":
            assert item.story_id is not None
            views = await asyncio.to_thread(self.stories.views, [item.story_id], department=item.department)
            if not views:
                raise DeliveryError(f"story {item.story_id} no longer exists", permanent=True)
            return await notifier.post_story(channel=item.channel, story=views[0]), [(item.story_id, item.department)]
        if item.kind == "digest":
            ids = [int(i) for i in item.payload.get("story_ids", [])]
            views = await asyncio.to_thread(self.stories.views, ids, department=item.department)
            digest = DigestView(
                department=item.department or "",
                period_start=datetime.fromisoformat(item.payload["since"]),
                period_end=datetime.fromisoformat(item.payload["until"]),
                stories=tuple(views),
                total_in_period=int(item.payload.get("total", len(views))),
                open_commitments=int(item.payload.get("open_commitments", 0)),
            )
            posted = await notifier.post_digest(channel=item.channel, digest=digest)
            return posted, [(v.story_id, item.department) for v in views]
        if item.kind == "reply":
            assert item.story_id is not None
            places = await asyncio.to_thread(
                self.outbox.story_messages, story_id=item.story_id, platform=item.platform, channel=item.channel
            )
            if places:
                channel, message_id, _ = places[0]
                return await notifier.reply_in_thread(message=PostedMessage(channel, message_id), text=text), []
            return await notifier.post_text(channel=item.channel, text=text), []
        if item.kind == "update":
            assert item.story_id is not None
            places = await asyncio.to_thread(self.outbox.story_messages, story_id=item.story_id, platform=item.platform)
            views = await asyncio.to_thread(self.stories.views, [item.story_id])
            note = str(item.payload.get("note", ""))
            for channel, message_id, carried in places:
                if carried == 1 and views:  # a digest message carries several stories: its thread reply suffices
                    await notifier.update_story(message=PostedMessage(channel, message_id), story=views[0], note=note)
            return None, []
        if item.kind == "dm":
            return await notifier.send_direct_message(user=item.channel, text=text), []
        if item.kind == "text":
            return await notifier.post_text(channel=item.channel, text=text), []
        raise DeliveryError(f"unknown delivery kind {item.kind!r}", permanent=True)
