"""Sends what the outbox holds, through each platform's Notifier, and records where it landed: exactly once.

Run by ``cxbot serve`` as a background task (and by ``cxbot dispatch``); any number of replicas may run one, since
the database decides who delivers (claims with leases, see storage/outbox.py). ``kick()`` wakes it right after
something is queued.

How a delivery goes out:
1. claimed in a batch, urgent stories first, at most ``lane_depth`` per lane (platform, channel), lanes with work still queued here
   skipped, so one busy channel never holds up the others, and at most ``max_in_flight`` held at once, so one
   replica does not take everything while others stand idle;
2. each lane is worked by its own task, in order, paced (bot/pacing.py) so channels proceed in parallel and
   each at the platform's rate; a 429 pauses the lane for its Retry-After and the same claim tries again;
   at most ``sending`` deliveries are in progress at once (an urgent one is the next to start when one ends; Slack's
   workspace-wide pace is kept too), and each gives way to chat answers before its steps
   (``turn``, bot/priority.py): it waits for a lull in Slack/Teams requests, never longer than its bound;
3. right before posting, the claim is renewed (``hold``); if it is no longer ours, we do not post;
4. on a claim that is not the first (``attempts > 1``: an earlier claimer may have posted and died before
   recording it), a Notifier that can (``FindsDelivered``, Slack) is asked for a message carrying the delivery
   key, and that message is recorded instead of posting again;
5. the platform's message id is recorded (``mark_sent``), and the stories the message carries.

Slack channel posts, thread replies and direct messages (im:history) can all be looked up. What remains is a crash
between a platform's answer and step 5 on Teams: the Bot Framework connector cannot list a conversation's
messages (that needs Microsoft Graph and a channel-read permission cxbot does not ask for), and it does not honour an
activity id we choose. The delivery is then posted again after its lease expires: never lost, at worst doubled, and
only in that instant. Such a retry is counted (``cxbot_deliveries_total{outcome="unverified_retry"}``) and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from prometheus_client import Counter

from bot.pacing import Lane, Pacer, Turns
from storage.outbox import Claimed, SqlOutbox
from storage.stories import SqlStoryReader
from stories.erasure import erased_note
from stories.models import DigestView
from stories.ports import DeliveryError, FindsDelivered, Notifier, PostedMessage
from stories.praise_push import from_payload as praise_from_payload
from stories.surge import Surge, surge_view

log = logging.getLogger(__name__)

SENT = Counter("cxbot_deliveries_total", "Deliveries by platform, kind and outcome", ["platform", "kind", "outcome"])

# A Retry-After up to this long is waited out by the lane; a longer one gives the claim back.
MAX_INLINE_RETRY_AFTER = 30.0
# How far before a delivery's creation a look-up for an earlier post starts (clock skew between us and Slack).
LOOKUP_SKEW = timedelta(minutes=5)

Carried = list[tuple[int, str | None]]  # (story id, department) a message carries


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at 30 minutes."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 1800))


class _RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after


class _ClaimLost(Exception):
    """The lease ran out while the delivery waited for its turn and another dispatcher took it over."""


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
        pacer: Pacer | None = None,
        lane_depth: int = 3,
        batch: int = 100,
        max_in_flight: int = 200,
        turn: Callable[[float | None], Awaitable[None]] | None = None,
        sending: int = 2,
    ) -> None:
        self.outbox = outbox
        self.stories = stories
        self.notifiers = notifiers  # the App's dict: platform wiring may register a notifier after start
        self.instance = instance
        self.lease = lease
        self.clock = clock
        self.pacer = pacer or Pacer()
        self.lane_depth = lane_depth
        self.batch = batch
        self.max_in_flight = max_in_flight
        self.turn = turn  # waits while chat requests are being answered (bot/priority.py)
        self._sending = Turns(sending)  # deliveries in progress at once, over all lanes; urgent ones first
        self.sent = 0  # deliveries this dispatcher recorded as sent (tests, bench)
        self._wake = asyncio.Event()
        self._lanes: dict[Lane, deque[Claimed]] = {}
        self._workers: dict[Lane, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it runs on, for wake_threadsafe

    def kick(self) -> None:
        self._wake.set()

    def wake_threadsafe(self) -> None:
        """:meth:`kick` from any thread (the core runs in worker threads); nothing while it is not running."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.kick)

    # --- running ----------------------------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event, *, idle: float = 5.0) -> None:
        """Claim and send until ``stop`` is set; then finish what is being sent and give back what is queued."""
        await self._run(stop, idle=idle, drain=False)

    async def drain(self, *, poll: float = 0.2) -> int:
        """Send until nothing is pending or claimed by anyone (``cxbot dispatch``, tests); returns how many this
        dispatcher recorded as sent."""
        before = self.sent
        await self._run(asyncio.Event(), idle=poll, drain=True)
        return self.sent - before

    async def run_once(self, *, limit: int = 50, keys: Collection[str] | None = None) -> int:
        """One pass: claim what is due now (only ``keys``, if given), send it all (lanes in parallel, paced);
        returns how many were claimed."""
        claimed = await asyncio.to_thread(
            self.outbox.claim, instance=self.instance, now=self.clock(), lease=self.lease, limit=limit, keys=keys
        )
        lanes: dict[Lane, list[Claimed]] = {}
        for item in claimed:
            lanes.setdefault(item.lane, []).append(item)
        await asyncio.gather(*(self._work_through(items) for items in lanes.values()))
        return len(claimed)

    async def _work_through(self, items: list[Claimed]) -> None:
        for item in items:
            await self._send_guarded(item)

    async def _send_guarded(self, item: Claimed) -> None:
        try:
            async with self._sending.turn(urgent=item.urgent):
                await self._send_paced(item)
        except Exception:  # the database went away mid-delivery: the claim's lease brings it back
            log.exception("delivery %s (%s): left for a later claim", item.id, item.kind)

    async def _run(self, stop: asyncio.Event, *, idle: float, drain: bool) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                self._wake.clear()  # before claiming: a kick or a lane running dry meanwhile is not missed
                claimed = await self._claim_more()
                if claimed:
                    continue
                if drain and not self._workers and await self._nothing_left():
                    return
                await self._pause(stop, idle)
        finally:
            await self._wind_down()

    async def _claim_more(self) -> int:
        await self._yield()
        busy = [lane for lane, queue in self._lanes.items() if queue]
        held = sum(len(queue) for queue in self._lanes.values()) + len(self._workers)
        room = min(self.batch, self.max_in_flight - held)
        if room <= 0:
            return 0
        try:
            claimed = await asyncio.to_thread(
                self.outbox.claim,
                instance=self.instance,
                now=self.clock(),
                lease=self.lease,
                limit=room,
                per_lane=self.lane_depth,
                exclude=busy,
            )
        except Exception:
            log.exception("dispatcher: claiming failed; retrying")
            return 0
        for item in claimed:
            self._lanes.setdefault(item.lane, deque()).append(item)
            if item.lane not in self._workers:
                self._workers[item.lane] = asyncio.create_task(self._lane(item.lane))
        return len(claimed)

    async def _pause(self, stop: asyncio.Event, idle: float) -> None:
        """Until kicked, stopped, a lane runs dry (time to claim more for it) or ``idle`` seconds pass."""
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _nothing_left(self) -> bool:
        counts = await asyncio.to_thread(self.outbox.counts)
        return not counts.get("pending") and not counts.get("claimed")

    async def _lane(self, lane: Lane) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                item = queue.popleft()
                if not queue:
                    self._wake.set()  # claim the lane's next deliveries while this one waits for its turn
                await self._send_guarded(item)
        finally:
            del self._workers[lane]
            if not queue:
                del self._lanes[lane]
            self._wake.set()

    async def _wind_down(self) -> None:
        """Give back what is queued (not attempted), let what is being sent finish."""
        now = self.clock()
        for queue in list(self._lanes.values()):
            while queue:
                item = queue.popleft()
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(
                        self.outbox.release, item, instance=self.instance, not_before=now, reason="dispatcher stopped"
                    )
        if self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _yield(self, since: float | None = None) -> None:
        """Let chat answers go first (bot/priority.py); ``since``: when this delivery's turn began."""
        if self.turn is not None:
            await self.turn(since)

    # --- one delivery -------------------------------------------------------------------------------------------

    async def _send_paced(self, item: Claimed) -> None:
        while True:
            try:
                await self._send(item)
                return
            except _RateLimited as limited:
                if limited.retry_after > MAX_INLINE_RETRY_AFTER:
                    SENT.labels(item.platform, item.kind, "rate_limited").inc()
                    retry_at = self.clock() + timedelta(seconds=limited.retry_after)
                    await asyncio.to_thread(
                        self.outbox.release, item, instance=self.instance, not_before=retry_at, reason="rate limited"
                    )
                    return
                self.pacer.pause(item.lane, limited.retry_after)

    async def _send(self, item: Claimed) -> None:
        notifier = self.notifiers.get(item.platform)
        now = self.clock()
        if notifier is None:
            await self._failed(item, f"no notifier for platform {item.platform}", retry_at=now + backoff(item.attempts))
            return
        started = time.monotonic()
        await self._yield(started)
        held = await asyncio.to_thread(self.outbox.hold, item, instance=self.instance, now=now, lease=self.lease)
        if not held:
            SENT.labels(item.platform, item.kind, "lease_lost").inc()
            log.warning("delivery %s: claim lost before sending; left to its new claimer", item.id)
            return
        try:
            await self._yield(started)
            posted, carried, outcome = await self._deliver(notifier, item, since=started)
        except _ClaimLost:
            SENT.labels(item.platform, item.kind, "lease_lost").inc()
            log.warning("delivery %s: claim lost while waiting for its turn; left to its new claimer", item.id)
            return
        except DeliveryError as exc:
            if exc.retry_after is not None and not exc.permanent:
                raise _RateLimited(exc.retry_after) from exc
            retry_at = None if exc.permanent else now + backoff(item.attempts)
            log.warning("delivery %s (%s) failed: %s", item.id, item.kind, exc)
            await self._failed(
                item, str(exc), retry_at=retry_at, outcome="permanent_error" if exc.permanent else "retry"
            )
            return
        except Exception as exc:  # a bug or an unexpected platform answer: keep the delivery, retry later
            log.exception("delivery %s (%s) raised", item.id, item.kind)
            await self._failed(item, f"{type(exc).__name__}: {exc}", retry_at=now + backoff(item.attempts))
            return
        recorded = await asyncio.to_thread(  # at once: the post is out, and only this record stops a repeat
            self.outbox.mark_sent,
            item,
            instance=self.instance,
            message_id=posted.message_id if posted else "",
            now=self.clock(),
            stories=carried,
        )
        if recorded:
            self.sent += 1
        else:
            outcome = "doubled"
            log.error("delivery %s was already recorded as sent by another claimer: posted twice", item.id)
        SENT.labels(item.platform, item.kind, outcome).inc()

    async def _failed(self, item: Claimed, error: str, *, retry_at: datetime | None, outcome: str = "retry") -> None:
        SENT.labels(item.platform, item.kind, outcome).inc()
        await asyncio.to_thread(
            self.outbox.mark_failed, item, instance=self.instance, error=error, now=self.clock(), retry_at=retry_at
        )

    async def _earlier_post(
        self, notifier: Notifier, item: Claimed, *, thread: PostedMessage | None = None
    ) -> PostedMessage | None:
        """After a claim that may have posted without recording it: the message it posted, if any."""
        if item.attempts <= 1:
            return None
        if not isinstance(notifier, FindsDelivered):
            SENT.labels(item.platform, item.kind, "unverified_retry").inc()
            log.warning(
                "delivery %s: attempt %d cannot check for an earlier post; may repeat it", item.id, item.attempts
            )
            return None
        found = await notifier.find_delivered(
            key=item.key, channel=item.channel, thread=thread, since=item.created_at - LOOKUP_SKEW
        )
        if found is not None:
            log.info("delivery %s was posted by an earlier claim; recording it", item.id)
        return found

    async def _deliver(
        self, notifier: Notifier, item: Claimed, *, since: float | None = None
    ) -> tuple[PostedMessage | None, Carried, str]:
        """Post ``item``; returns the message, the stories it carries, and the outcome for the metrics.

        The pacer is asked right before the platform call, after the database work, so the time between two
        posts to a channel is what the platform sees.
        """
        key = item.key
        if item.kind == "update":
            await self._update(notifier, item)
            return None, [], "sent"
        if item.kind == "erase":
            updated = await self._erase(notifier, item)
            return updated, [], "updated" if updated else "deleted"
        thread = await self._thread(item) if item.kind == "reply" else None
        found = await self._earlier_post(notifier, item, thread=thread)
        text = str(item.payload.get("text", ""))
        carried: Carried = []
        post: Callable[[], Awaitable[PostedMessage]]
        if item.kind == "story":
            assert item.story_id is not None
            views = await asyncio.to_thread(self.stories.views, [item.story_id], department=item.department)
            if not views:
                raise DeliveryError(f"story {item.story_id} no longer exists", permanent=True)
            carried = [(item.story_id, item.department)]
            post = partial(notifier.post_story, channel=item.channel, story=views[0], key=key)
        elif item.kind == "digest":
            digest = await self._digest(item)
            carried = [(v.story_id, item.department) for v in digest.stories]
            post = partial(notifier.post_digest, channel=item.channel, digest=digest, key=key)
        elif item.kind == "reply" and thread is not None:
            post = partial(notifier.reply_in_thread, message=thread, text=text, key=key)
        elif item.kind in ("reply", "text"):  # a reply to a story not posted there yet is a plain message
            post = partial(notifier.post_text, channel=item.channel, text=text, key=key)
        elif item.kind == "dm":
            post = partial(notifier.send_direct_message, user=item.channel, text=text, key=key)
        elif item.kind == "report":
            post = await self._report(notifier, item)
        elif item.kind == "surge":
            view = surge_view(Surge.from_payload(item.payload))
            post = partial(notifier.post_surge, channel=item.channel, surge=view, key=key)
        elif item.kind == "praise":
            praise = praise_from_payload(item.payload)
            post = partial(notifier.post_praise, channel=item.channel, praise=praise, key=key)
        else:
            raise DeliveryError(f"unknown delivery kind {item.kind!r}", permanent=True)
        if found is not None:
            return found, carried, "found"
        await self._yield(since)  # rendering and posting are the heaviest steps
        async with self.pacer.slot(item.lane):
            # The wait for a turn can outlast the lease (Teams' hourly window): renew it once more right before
            # posting, and leave the delivery to its new claimer if it was taken over meanwhile.
            if not await asyncio.to_thread(
                self.outbox.hold, item, instance=self.instance, now=self.clock(), lease=self.lease
            ):
                raise _ClaimLost
            await self._yield(since)  # a burst that began while the claim was renewed goes first (counted late)
            posted = await post()
        return posted, carried, "sent"

    async def _thread(self, item: Claimed) -> PostedMessage | None:
        """The message a reply goes under: the one its payload names (an intake message, stories.loop), else
        the story's message in that channel; None: post it as a plain message."""
        if item.payload.get("thread"):
            return PostedMessage(item.channel, str(item.payload["thread"]))
        assert item.story_id is not None
        places = await asyncio.to_thread(
            self.outbox.story_messages, story_id=item.story_id, platform=item.platform, channel=item.channel
        )
        if not places:
            return None
        channel, message_id, _ = places[0]
        return PostedMessage(channel, message_id)

    async def _update(self, notifier: Notifier, item: Claimed) -> None:
        """Re-render the story's own cards (idempotent: updating twice shows the same)."""
        assert item.story_id is not None
        places = await asyncio.to_thread(self.outbox.story_messages, story_id=item.story_id, platform=item.platform)
        views = await asyncio.to_thread(self.stories.views, [item.story_id])
        note = str(item.payload.get("note", ""))
        for channel, message_id, carried in places:
            if carried == 1 and views:  # a digest message carries several stories: its thread reply suffices
                async with self.pacer.slot((item.platform, channel)):
                    await notifier.update_story(message=PostedMessage(channel, message_id), story=views[0], note=note)

    async def _digest(self, item: Claimed) -> DigestView:
        return await self._digest_view(item.payload, department=item.department)

    async def _digest_view(self, payload: Mapping[str, Any], *, department: str | None) -> DigestView:
        ids = [int(i) for i in payload.get("story_ids", [])]
        views = await asyncio.to_thread(self.stories.views, ids, department=department)
        return DigestView(
            department=department or "",
            period_start=datetime.fromisoformat(payload["since"]),
            period_end=datetime.fromisoformat(payload["until"]),
            stories=tuple(views),
            total_in_period=int(payload.get("total", len(views))),
            open_commitments=int(payload.get("open_commitments", 0)),
        )

    async def _erase(self, notifier: Notifier, item: Claimed) -> PostedMessage | None:
        """Take a message back (stories.erasure): delete it, or redraw a digest without its erased stories from
        the digest's current payload (so two erasures in one digest, sent in any order, end the same). A digest
        with nothing left is deleted. Returns the message if it was updated (recorded as the delivery's message
        id), None if it was deleted."""
        message = PostedMessage(item.channel, str(item.payload.get("message_id", "")))
        digest_key = item.payload.get("digest_key")
        digest, note = None, ""
        if item.payload.get("action") == "digest" and digest_key:
            payload = await asyncio.to_thread(self.outbox.payload_of, str(digest_key))
            if payload is not None and payload.get("since"):
                digest = await self._digest_view(payload, department=item.department)
                note = erased_note(int(payload.get("erased", 0)))
        async with self.pacer.slot(item.lane):
            if digest is not None and digest.stories:
                await notifier.update_digest(message=message, digest=digest, note=note)
                return message
            await notifier.delete_message(message=message)
        return None

    async def _report(self, notifier: Notifier, item: Claimed) -> Callable[[], Awaitable[PostedMessage]]:
        from bot.charts import report_chart
        from stories.patterns import PatternReport

        report = PatternReport.from_payload(item.payload)
        chart = await asyncio.to_thread(report_chart, report)
        return partial(notifier.post_report, channel=item.channel, report=report, chart_png=chart, key=item.key)
