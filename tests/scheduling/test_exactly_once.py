"""Exactly once, with real processes: two dispatchers racing over one database, and one killed with SIGKILL
and restarted. Each worker is ``tests/scheduling/dispatch_worker.py`` (built as ``cxbot dispatch`` is), posting
to the fake Slack Web API over HTTP; the fake's stored messages carry each post's delivery key (message
metadata), so a doubled or lost delivery shows up there."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from storage.db import make_engine
from storage.departments import sync_departments
from storage.models import Delivery
from storage.outbox import SqlOutbox
from stories.config import CxConfig
from stories.outbox import Outgoing
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"default_department": "Ops", "departments": [{"name": "Ops", "slack_channel": "C0OPS00001"}]}


class KillingSlack(FakeSlackApi):
    """The fake Slack API, which SIGKILLs ``victim`` while answering its ``kill_at``-th post: the message is
    stored (Slack has it) but the answer never reaches the dispatcher."""

    def __init__(self, *, kill_at: int) -> None:
        super().__init__()
        self.kill_at = kill_at
        self.victim: int | None = None
        self.killed_key: str | None = None
        self._posts = 0

    def _post_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        answer = super()._post_message(params)
        self._posts += 1
        if self._posts == self.kill_at and self.victim is not None:
            self.killed_key = _key(answer["message"])
            os.kill(self.victim, signal.SIGKILL)
        return answer


def _key(message: Mapping[str, Any]) -> str:
    return str(message["metadata"]["event_payload"]["key"])


def posted_keys(slack: FakeSlackApi) -> Counter[str]:
    return Counter(_key(m) for m in slack.messages.values())


@pytest.fixture
def seeded(database_url: str, tmp_path: Path) -> Any:
    """A migrated database with the config's departments, and a function queueing ``n`` text deliveries."""
    config_path = tmp_path / "cxbot.yaml"
    config_path.write_text(yaml.safe_dump(CONFIG))
    engine = make_engine(database_url)
    outbox = SqlOutbox(engine, sync_departments(engine, CxConfig.model_validate(CONFIG)))

    def seed(n: int, *, channels: int) -> list[str]:
        items = [
            Outgoing(
                key=f"text:{i}",
                kind="text",
                platform="slack",
                channel=f"C{i % channels:09d}",
                payload={"text": f"n{i}"},
            )
            for i in range(n)
        ]
        assert outbox.enqueue(items) == n
        return [i.key for i in items]

    yield seed, outbox, engine, config_path
    engine.dispose()


class Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls,
        *,
        database_url: str,
        config: Path,
        slack: FakeSlackApi,
        name: str,
        args: list[str],
        token: str = DEFAULT_TOKEN,
    ) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CX_", "SLACK_", "DATABASE_URL"))}
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=database_url,
            CX_CONFIG=str(config),
            CX_INSTANCE=name,
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET="not-used-by-a-dispatcher",
            SLACK_API_URL=slack.base_url,
            LOG_LEVEL="ERROR",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.scheduling.dispatch_worker",
            *args,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        worker = cls(process)
        line = await asyncio.wait_for(process.stdout.readline(), 60)  # type: ignore[union-attr]
        assert line.strip() == b"ready", await worker.stderr()
        return worker

    def go(self) -> None:
        self.process.stdin.write(b"go\n")  # type: ignore[union-attr]

    async def finish(self) -> dict[str, Any]:
        # generous: two processes writing one SQLite file wait on each other's locks (29-116 s seen for 1000)
        out, err = await asyncio.wait_for(self.process.communicate(), 600)
        assert self.process.returncode == 0, err.decode()
        return json.loads(out.decode().strip().splitlines()[-1])

    async def stderr(self) -> str:
        return (await self.process.stderr.read()).decode()  # type: ignore[union-attr]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


async def test_two_dispatcher_processes_racing_over_1000_deliveries_deliver_each_exactly_once(
    seeded: Any, slack: FakeSlackApi, database_url: str
) -> None:
    seed, _outbox, engine, config = seeded
    total = 1000
    keys = seed(total, channels=200)
    tokens = [f"xoxb-racer-{n}" for n in (1, 2)]
    slack.tokens.update(tokens)
    # neither racer's first post is answered before the other has posted too: on a busy machine one process
    # could otherwise send all 1000 before the other starts, and "both really raced" would be luck
    slack.distinct_tokens_before_answer = 2
    workers = await asyncio.gather(
        *(
            Worker.start(
                database_url=database_url,
                config=config,
                slack=slack,
                name=f"racer-{n}",
                args=["--wait-for-go"],
                token=token,
            )
            for n, token in enumerate(tokens, 1)
        )
    )
    for worker in workers:
        worker.go()
    results = await asyncio.gather(*(w.finish() for w in workers))

    posted = posted_keys(slack)
    assert set(posted) == set(keys)  # none lost
    assert max(posted.values()) == 1  # none doubled
    assert [r["sent"] > 0 for r in results] == [True, True]  # both really raced
    assert sum(r["sent"] for r in results) == total
    with engine.connect() as conn:
        rows = conn.execute(select(Delivery.key, Delivery.state, Delivery.message_id, Delivery.channel)).all()
    assert {r.state for r in rows} == {"sent"}
    ts_by_key = {_key(m): ts for (_, ts), m in slack.messages.items()}
    assert all(r.message_id == ts_by_key[r.key] for r in rows)


async def test_dispatcher_killed_mid_run_and_restarted_loses_nothing_and_doubles_nothing(
    seeded: Any, database_url: str
) -> None:
    seed, outbox, engine, config = seeded
    keys = seed(30, channels=3)
    async with KillingSlack(kill_at=8) as slack:
        args = ["--lease", "1", "--rate", "5"]
        first = await Worker.start(database_url=database_url, config=config, slack=slack, name="first", args=args)
        slack.victim = first.process.pid
        await asyncio.wait_for(first.process.wait(), 60)
        assert first.process.returncode == -signal.SIGKILL

        counts = outbox.counts()
        sent_before = counts.get("sent", 0)
        assert counts.get("claimed", 0) >= 2  # the post Slack took but nobody recorded, and claims never sent
        with engine.connect() as conn:
            killed = conn.execute(select(Delivery.state).where(Delivery.key == slack.killed_key)).scalar_one()
        assert killed == "claimed"

        second = await Worker.start(database_url=database_url, config=config, slack=slack, name="second", args=args)
        result = await second.finish()

    posted = posted_keys(slack)
    assert set(posted) == set(keys)
    assert max(posted.values()) == 1
    assert len(slack.calls_to("chat.postMessage", ok_only=True)) == 30
    assert result["sent"] == 30 - sent_before  # the killed post among them: found by its key, recorded, not reposted
    with engine.connect() as conn:
        rows = {
            r.key: r for r in conn.execute(select(Delivery.key, Delivery.state, Delivery.message_id, Delivery.attempts))
        }
    assert {r.state for r in rows.values()} == {"sent"}
    ts_by_key = {_key(m): ts for (_, ts), m in slack.messages.items()}
    assert all(r.message_id == ts_by_key[key] for key, r in rows.items())
    assert rows[slack.killed_key].attempts == 2
    assert slack.calls_to("conversations.history")  # the look-up that found it
