"""The inbox write before a Slack ack: through the engine in a thread vs on the event loop (storage/inbox_write.py).

One event at a time (an ack waits for exactly this), ``--writes`` of them, each with a body like an intake message;
the median and p99 of each way, on SQLite and, with ``--pg``, PostgreSQL (a schema of its own, dropped after).

    python bench/inbox_write.py
    python bench/inbox_write.py --pg postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from storage.db import make_engine, upgrade  # noqa: E402
from storage.inbox import SqlEventInbox  # noqa: E402
from storage.inbox_write import LoopEventInbox  # noqa: E402

SECRET = b"bench-secret-of-32-bytes-at-least"
BODY = {
    "event_id": "Ev0BENCH",
    "team_id": "T0FAKE0001",
    "event": {"type": "message", "channel": "C0INTAKE01", "text": "The delivery was late and the invoice wrong " * 3},
}


async def timed(inbox: SqlEventInbox, writes: int, prefix: str) -> list[float]:
    lease = timedelta(minutes=10)
    seconds = []
    for i in range(writes):
        started = time.perf_counter()
        [kept] = await inbox.accept_async([(f"{prefix}:{i}", "message", BODY)], now=datetime.now(UTC), lease=lease)
        seconds.append(time.perf_counter() - started)
        assert kept
    return seconds


def line(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{name:<44}{statistics.median(ms):>9.2f}{p99:>9.2f}"


async def compare(url: str, writes: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    thread, loop = SqlEventInbox(engine, secret=SECRET), LoopEventInbox(engine, secret=SECRET)
    await timed(thread, 20, "warm-thread")
    await timed(loop, 20, "warm-loop")
    print(f"\n{engine.dialect.name}: {writes} writes, one at a time{'':<8}p50 ms   p99 ms")
    print(line("  engine in a thread (before)", await timed(thread, writes, "thread")))
    print(line("  on the event loop (storage/inbox_write.py)", await timed(loop, writes, "loop")))
    await loop.aclose()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (a fresh schema is made and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(compare(f"sqlite:///{Path(folder) / 'bench.db'}", args.writes))
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            separator = "&" if "?" in args.pg else "?"
            asyncio.run(compare(f"{args.pg}{separator}options=-csearch_path%3D{schema}", args.writes))
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
