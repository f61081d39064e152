"""Running the outbox dispatcher outside ``cxbot serve``: ``cxbot dispatch`` (a dispatcher-only replica, or
``--drain`` to send what is queued and exit) and the CLI's ``digest --now``.

Any number of these may run beside the servers: the database decides who delivers (storage/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.connectors import connect_notifiers
from bot.dispatcher import Dispatcher
from bot.pacing import Pacer

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=2)


def dispatcher_for(app: App, *, lease: timedelta = DEFAULT_LEASE, pacer: Pacer | None = None) -> Dispatcher:
    """A dispatcher on ``app``'s outbox and notifiers (``app.dispatcher`` is the one with the defaults)."""
    return Dispatcher(
        outbox=app.outbox,
        stories=app.stories,
        notifiers=app.notifiers,
        instance=app.settings.instance_name,
        lease=lease,
        pacer=pacer or app.pacer,
    )


async def run(dispatcher: Dispatcher, *, drain: bool) -> int:
    """Until SIGTERM/SIGINT (or, with ``drain``, until nothing is pending or claimed); returns how many this
    process sent."""
    if drain:
        return await dispatcher.drain()
    stop = asyncio.Event()
    before = dispatcher.sent
    with _stopped_by_signals(stop):
        await dispatcher.run_forever(stop)
    return dispatcher.sent - before


@contextlib.contextmanager
def _stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: through asyncio's signal handlers, or, where the event loop has none
    (Windows' loops raise NotImplementedError), through ``signal.signal``, handing over to the loop; the handlers
    that were there before are put back afterwards."""
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    through_loop = []
    try:
        for signum in previous:
            try:
                loop.add_signal_handler(signum, stop.set)
                through_loop.append(signum)
            except NotImplementedError:
                signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
        yield
    finally:
        for signum, handler in previous.items():
            if signum in through_loop:
                loop.remove_signal_handler(signum)  # which leaves Python's default, not what was there
            signal.signal(signum, handler)


def cmd_dispatch(app: App, *, drain: bool, lease: float) -> int:
    platforms = connect_notifiers(app)
    if not platforms:
        print("cxbot: no platform configured (set SLACK_BOT_TOKEN or MICROSOFT_APP_ID); nothing can be sent")
        return 2
    dispatcher = dispatcher_for(app, lease=timedelta(seconds=lease))
    sent = asyncio.run(run(dispatcher, drain=drain))
    print(f"sent {sent} deliveries ({', '.join(platforms)}); outbox: {app.outbox.counts()}")
    return 0
