"""Slack events survive a crash after their ack: kept in the inbox before the ack, replayed if never handled.

:func:`accept` runs before the listener acks (bolt answers Slack when the listener returns: ``process_before_
response``), so Slack hears "ok" only once the event is stored; if storing fails, Slack hears 503 and retries.
The work then runs after the ack (:meth:`handlers.slack.tasks.Background.handle`) and takes the event out of the
inbox when done. :func:`replaying` claims events whose lease has passed (their replica died, or their work
failed) at start and every :data:`REPLAY_EVERY` seconds, and hands them to the same work: at most one replica
holds an event at a time, and the work is idempotent (comments are keyed by source and id, actions by their key),
so a replay after a crash mid-work makes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping
from datetime import timedelta
from typing import Any

from handlers.slack.context import SlackContext
from handlers.slack.tasks import Work

log = logging.getLogger(__name__)

# How long an accepted event is left to the replica that accepted it before any replica may replay it: longer
# than its work can take queued behind a burst and a slow language model.
INBOX_LEASE = timedelta(minutes=10)
REPLAY_EVERY = 60.0  # seconds between looks for events to replay
REPLAY_BATCH = 20


WorkFor = Callable[[str, Mapping[str, Any]], Awaitable[tuple[Work, Hashable | None] | None]]
"""``(kind, body) -> (work, serial)`` for a replayed event; None: nothing to do for it any more."""


class InboxUnavailable(RuntimeError):
    """The event could not be stored before its ack: answer Slack with an error so it sends the event again."""


def kept_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a replay needs of bolt's request body: an event and which workspace it came from; a command, click,
    submission or shortcut whole (handlers/slack/kept.py)."""
    if "event" not in body:
        return dict(body)
    return {name: body[name] for name in ("event_id", "team_id", "enterprise_id", "event") if name in body}


async def accept(ctx: SlackContext, *, key: str, kind: str, body: Mapping[str, Any]) -> bool:
    """Store the event before the ack; False if it was accepted before (a retry: nothing to do)."""
    if ctx.acceptor is None:
        ctx.acceptor = Acceptor(ctx)
    first = await ctx.acceptor.accept(key=key, kind=kind, body=kept_body(body))
    if not first:
        log.info("slack: %s already handled", key)  # the key only: never a command's text
    return first


class Acceptor:
    """Events arriving together are stored in one transaction (group commit): under a burst of 50 at once an
    ack waits for one commit, not for 49 others one after another. While one batch is written, the next gathers."""

    def __init__(self, ctx: SlackContext) -> None:
        self._ctx = ctx
        self._pending: list[tuple[str, str, dict[str, Any], asyncio.Future[bool]]] = []
        self._writing = False
        self._writer: asyncio.Task[None] | None = None

    async def accept(self, *, key: str, kind: str, body: dict[str, Any]) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((key, kind, body, future))
        if not self._writing:
            self._writing = True
            self._writer = loop.create_task(self._write(), name="slack inbox writer")
        return await future

    async def _write(self) -> None:
        inbox, clock = self._ctx.core.inbox, self._ctx.clock
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                events = [(key, kind, body) for key, kind, body, _ in batch]
                try:
                    accepted = await inbox.accept_async(events, now=clock(), lease=INBOX_LEASE)
                except Exception:
                    log.exception("slack: %d events could not be stored before their ack; Slack will retry", len(batch))
                    for key, _, _, future in batch:
                        if not future.done():
                            future.set_exception(InboxUnavailable(key))
                    continue
                for (_, _, _, future), first in zip(batch, accepted, strict=True):
                    if not future.done():
                        future.set_result(first)
        finally:
            self._writing = False


async def replay(ctx: SlackContext, work_for: WorkFor) -> int:
    """Claim the events due for replay and queue their work; returns how many."""
    due = await asyncio.to_thread(ctx.core.inbox.due, now=ctx.clock(), lease=INBOX_LEASE, limit=REPLAY_BATCH)
    for item in due:
        found = await work_for(item.kind, item.body)
        if found is None:
            await asyncio.to_thread(ctx.core.inbox.done, item.key)
            continue
        work, serial = found
        log.info("slack: replaying event %s (%s, attempt %d)", item.key, item.kind, item.attempts)
        ctx.background.handle(item.key, work, name=f"slack {item.kind} (replayed)", serial=serial)
    return len(due)


async def replaying(ctx: SlackContext, work_for: WorkFor, *, every: float = REPLAY_EVERY) -> None:
    """Replay at once (events a replica left behind when it died), then every ``every`` seconds, until cancelled."""
    while True:
        try:
            while await replay(ctx, work_for) >= REPLAY_BATCH:
                pass
        except Exception:
            log.exception("slack: replaying the event inbox failed; trying again in %.0f s", every)
        await asyncio.sleep(every)
