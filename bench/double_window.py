"""The double-post window: how long a post is out on the platform but not yet recorded as sent.

A Teams post cannot be looked up afterwards (README, Schedules and delivery), so a replica dying inside this window
posts it again after the lease runs out. This measures the window with the real dispatcher and outbox: from the
moment the platform's answer is back (the notifier returns) to the moment the record is committed (``mark_sent``
returns). The notifier here is Slack's, against the fake Slack Web API; the window is the dispatcher's and the
database's, the same for every platform.

    python bench/double_window.py                  # SQLite
    python bench/double_window.py --pg postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pacing import CONFIG, database
from bot.dispatcher import Dispatcher
from bot.pacing import unpaced
from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.db import make_engine
from storage.departments import sync_departments
from storage.outbox import SqlOutbox
from storage.stories import SqlStoryReader
from stories.outbox import Outgoing
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi


async def measure(url: str, *, messages: int) -> list[float]:
    engine = make_engine(url)
    outbox = SqlOutbox(engine, sync_departments(engine, CONFIG))
    answered: dict[str, float] = {}
    windows: list[float] = []
    record = outbox.mark_sent

    def mark_sent(claimed, **kwargs):  # type: ignore[no-untyped-def]
        done = record(claimed, **kwargs)
        windows.append(time.perf_counter() - answered[claimed.key])
        return done

    outbox.mark_sent = mark_sent  # type: ignore[method-assign]
    async with FakeSlackApi() as slack:
        notifier = SlackNotifier(client=web_client(base_url=slack.base_url, token=DEFAULT_TOKEN))
        post = notifier.post_text

        async def post_text(*, channel: str, text: str, key: str | None = None):  # type: ignore[no-untyped-def]
            posted = await post(channel=channel, text=text, key=key)
            answered[str(key)] = time.perf_counter()
            return posted

        notifier.post_text = post_text  # type: ignore[method-assign]
        keys = [f"window:{uuid.uuid4().hex[:6]}:{i}" for i in range(messages)]
        outbox.enqueue(
            [
                Outgoing(key=k, kind="text", platform="slack", channel=f"C{i % 20:09d}", payload={"text": "x"})
                for i, k in enumerate(keys)
            ]
        )
        dispatcher = Dispatcher(
            outbox=outbox, stories=SqlStoryReader(engine), notifiers={"slack": notifier}, instance="w", pacer=unpaced()
        )
        await dispatcher.drain(poll=0.05)
    engine.dispose()
    return windows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--pg", help="also on this PostgreSQL URL")
    args = parser.parse_args()
    print(f"{'database':<12} {'posts':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for kind, url in [("sqlite", None), *([("postgresql", args.pg)] if args.pg else [])]:
            scoped, drop = database(url, Path(folder))
            try:
                windows = sorted(w * 1000 for w in asyncio.run(measure(scoped, messages=args.messages)))
            finally:
                drop()  # type: ignore[operator]
            p99 = windows[min(len(windows) - 1, int(len(windows) * 0.99))]
            print(f"{kind:<12} {len(windows):>6} {statistics.median(windows):>8.1f} {p99:>8.1f} {windows[-1]:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
