"""Pacing: 300 messages over 10 channels through the real dispatcher and Slack notifier, against the fake Slack
Web API enforcing Slack's one post per second per channel (429 with Retry-After beyond it).

The theoretical minimum is measured in the same run: the fake accepts a channel's posts at least 1.0 s apart,
so a channel with n posts needs (n - 1) seconds after its first is accepted, plus one post's round trip
(measured first, on a channel of its own). The goal is within 10% of it, with zero lost and zero doubled.

    python bench/pacing.py                     # SQLite
    python bench/pacing.py --pg postgresql://postgres@127.0.0.1:5432/test
    python bench/pacing.py --naive             # also the same load sent unpaced, answered with 429s
    python bench/pacing.py --workspace 360     # also Slack's workspace limit: 360 posts to 360 channels
    python bench/pacing.py --pg URL --workspace 360 --replicas 2   # two dispatchers sharing the workspace limit

With ``--workspace N`` the fake also enforces a workspace-wide limit of 300 posts in any 60 seconds (Slack's
"several hundred a minute", the low end, as bot/pacing.py paces it) and N posts go to N channels, one each, so only
the workspace limit binds: the minimum is 60 s per 300 posts after the first 300, plus a round trip. With
``--replicas R`` (PostgreSQL) R dispatchers, each with its own engine and pacer as R `cxbot serve` would have,
send those N posts together, keeping the workspace limit through the database (storage/pace.py).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench.report import Row, ratio_row
from bot.dispatcher import Dispatcher
from bot.pacing import SLACK_PER_WORKSPACE, Pacer, unpaced
from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.db import make_engine, upgrade
from storage.departments import sync_departments
from storage.outbox import SqlOutbox
from storage.pace import SqlSharedWindows
from storage.stories import SqlStoryReader
from stories.config import CxConfig, Department
from stories.outbox import Outgoing
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi

CONFIG = CxConfig(default_department="Ops", departments=(Department(name="Ops"),))


@dataclass
class Result:
    name: str
    messages: int
    channels: int
    round_trip: float
    minimum: float
    elapsed: float
    lost: int
    doubled: int
    refused: int
    min_gap: float

    @property
    def over(self) -> float:
        return self.elapsed / self.minimum - 1


def database(url: str | None, folder: Path) -> tuple[str, object]:
    if url is None:
        path = folder / f"{uuid.uuid4().hex}.db"
        upgrade(make_engine(f"sqlite:///{path}"))
        return f"sqlite:///{path}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    upgrade(make_engine(scoped))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return scoped, drop


async def run(
    name: str,
    url: str,
    *,
    messages: int,
    channels: int,
    pacer: Pacer,
    workspace: bool = False,
    replicas: int = 1,
    shared: bool = True,
) -> Result:
    engine = make_engine(url)
    others = [make_engine(url) for _ in range(replicas - 1)]
    outbox = SqlOutbox(engine, sync_departments(engine, CONFIG))
    limit = SLACK_PER_WORKSPACE[0]
    async with FakeSlackApi() as slack:
        slack.rate_limit(1)
        notifier = SlackNotifier(client=web_client(base_url=slack.base_url, token=DEFAULT_TOKEN))
        trips = []
        for n in range(5):  # one post's round trip, on channels of their own
            started = time.perf_counter()
            await notifier.post_text(channel=f"CWARM{n}", text="warm-up")
            trips.append(time.perf_counter() - started)
        round_trip = statistics.median(trips)
        if workspace:
            slack.rate_limit_workspace(limit.count, limit.per)  # after the warm-up, which would count against it

        keys = [f"bench:{uuid.uuid4().hex[:6]}:{i}" for i in range(messages)]
        outbox.enqueue(
            [
                Outgoing(key=k, kind="text", platform="slack", channel=f"C{i % channels:09d}", payload={"text": k})
                for i, k in enumerate(keys)
            ]
        )
        dispatchers = [
            Dispatcher(
                outbox=outbox,
                stories=SqlStoryReader(engine),
                notifiers={"slack": notifier},
                instance="bench",
                pacer=pacer if replicas == 1 or not shared else Pacer(shared=SqlSharedWindows(engine)),
            )
        ] + [
            Dispatcher(  # another replica: its own engine, outbox and pacer, the database shared
                outbox=SqlOutbox(other, sync_departments(other, CONFIG)),
                stories=SqlStoryReader(other),
                notifiers={"slack": notifier},
                instance=f"bench-{n + 2}",
                pacer=Pacer(shared=SqlSharedWindows(other) if shared else None),
            )
            for n, other in enumerate(others)
        ]
        slack.calls.clear()
        started = time.monotonic()
        await asyncio.gather(*(d.drain(poll=0.05) for d in dispatchers))

        accepted = [c for c in slack.calls_to("chat.postMessage", ok_only=True) if c.params.get("text") in keys]
        last_accepted = max(c.at for c in accepted)
        elapsed = last_accepted - started + round_trip / 2  # until the dispatcher had the last answer
        per_channel: dict[str, list[float]] = defaultdict(list)
        for call in accepted:
            per_channel[call.params["channel"]].append(call.at)
        busiest = max(len(at) for at in per_channel.values())
        minimum = (busiest - 1) * 1.0 + round_trip
        if workspace:  # the first `count` at once, then one window per `count` more
            minimum = max(minimum, (math.ceil(len(keys) / limit.count) - 1) * limit.per + round_trip)
        posted = Counter(str(c.params.get("text")) for c in accepted)
        gaps = [b - a for at in per_channel.values() for a, b in pairwise(sorted(at))] or [float("inf")]
        refused = len([c for c in slack.calls_to("chat.postMessage") if c.status == 429])
    for each in [engine, *others]:
        each.dispose()
    return Result(
        name=name,
        messages=messages,
        channels=channels,
        round_trip=round_trip,
        minimum=minimum,
        elapsed=elapsed,
        lost=len(set(keys) - set(posted)),
        doubled=sum(n - 1 for n in posted.values() if n > 1),
        refused=refused,
        min_gap=min(gaps),
    )


def table(results: list[Result]) -> str:
    head = (
        f"{'run':<26} {'msgs':>5} {'chans':>5} {'min s':>7} {'took s':>7} {'over':>6} "
        f"{'lost':>4} {'doubled':>7} {'429s':>5} {'min gap s':>9}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(
            f"{r.name:<26} {r.messages:>5} {r.channels:>5} {r.minimum:>7.2f} {r.elapsed:>7.2f} {r.over:>6.1%} "
            f"{r.lost:>4} {r.doubled:>7} {r.refused:>5} {r.min_gap:>9.3f}"
        )
    return "\n".join(rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--pg", help="also run on this PostgreSQL URL")
    parser.add_argument("--naive", action="store_true", help="also send unpaced (the 429s do the pacing)")
    parser.add_argument(
        "--workspace", type=int, metavar="N", help="also N posts to N channels under the workspace limit"
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="with --pg and --workspace: this many dispatchers share the limit"
    )
    parser.add_argument("--unshared", action="store_true", help="with --replicas: also each replica pacing alone")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        targets: list[tuple[str, str | None]] = [("sqlite", None)] + ([("postgresql", args.pg)] if args.pg else [])
        if args.replicas > 1:  # replicas share the limit through PostgreSQL only
            targets = targets[1:]
        for kind, url in targets:
            scoped, drop = database(url, Path(folder))
            try:
                if args.replicas > 1:
                    for shared in (True, False) if args.unshared else (True,):
                        results.append(
                            await run(
                                f"workspace x{args.replicas} {'shared' if shared else 'alone'}",
                                scoped,
                                messages=args.workspace or 360,
                                channels=args.workspace or 360,
                                pacer=Pacer(),  # each replica gets its own pacer
                                workspace=True,
                                replicas=args.replicas,
                                shared=shared,
                            )
                        )
                    continue
                results.append(
                    await run(f"paced ({kind})", scoped, messages=args.messages, channels=args.channels, pacer=Pacer())
                )
                if args.workspace:
                    results.append(
                        await run(
                            f"workspace ({kind})",
                            scoped,
                            messages=args.workspace,
                            channels=args.workspace,
                            pacer=Pacer(),
                            workspace=True,
                        )
                    )
                if args.naive:
                    results.append(
                        await run(
                            f"unpaced ({kind})", scoped, messages=args.messages, channels=args.channels, pacer=unpaced()
                        )
                    )
            finally:
                drop()  # type: ignore[operator]
    print(table(results))
    paced = [r for r in results if r.name.startswith(("paced", "workspace")) and not r.name.endswith("alone")]
    ok = all(r.over <= 0.10 and r.lost == 0 and r.doubled == 0 for r in paced)
    print("goal (paced: within 10% of the minimum, none lost, none doubled):", "met" if ok else "NOT met")
    return 0 if ok else 1


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench``: the paced dispatcher's time beside the rate limit's minimum for the same posts."""
    messages, channels = (40, 4) if quick else (300, 10)
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for kind, url in [("sqlite", None)] + ([("postgresql", pg)] if pg else []):
            scoped, drop = database(url, Path(folder))
            try:
                result = asyncio.run(
                    run(f"paced ({kind})", scoped, messages=messages, channels=channels, pacer=Pacer())
                )
            finally:
                drop()  # type: ignore[operator]
            row = ratio_row(
                "pacing",
                f"{messages} posts over {channels} channels at 1/s/channel, {kind}",
                result.elapsed,
                result.minimum,
                unit="s",
                peer_name="rate-limit minimum",
                goal=1.1,
            )
            ok = bool(row.met) and result.lost == 0 and result.doubled == 0
            found.append(
                dataclasses.replace(
                    row,
                    value=f"{row.value}; lost {result.lost}, doubled {result.doubled}, 429s {result.refused}",
                    goal="<= 1.1x, none lost or doubled",
                    met=ok,
                )
            )
    return found


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
