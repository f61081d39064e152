"""README's Getting started, as the machine does it, end to end over the fake Slack: `cxbot slack-app create`,
`cxbot db upgrade`, `cxbot doctor` (every check ok for the bundled example), `cxbot serve` to /readyz, and a first
`POST /ingest` to its `chat.postMessage` (bench/getting_started.py, without the install step)."""

from __future__ import annotations

import pytest

from bench.getting_started import main


async def test_the_getting_started_steps_run_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    assert await main(["--no-install"]) == 0
    table = capsys.readouterr().out
    for step in ("slack-app create", "db upgrade", "doctor", "serve to /readyz", "first /ingest to post"):
        assert f"{step} " in table and "skipped" not in table.split(step, 1)[1].splitlines()[0], table
