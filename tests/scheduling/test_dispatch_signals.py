"""`cxbot dispatch` (bot/dispatch.py) stops on SIGINT/SIGTERM, also where the event loop has no signal handlers
(Windows' loops raise NotImplementedError), and leaves the process's own handlers as it found them."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest

from bot.dispatch import run


class Waiting:
    """A dispatcher's surface that ``run`` uses: it sends nothing and waits for ``stop``."""

    sent = 0

    async def run_forever(self, stop: asyncio.Event) -> None:
        asyncio.get_running_loop().call_later(0.05, signal.raise_signal, signal.SIGINT)
        await asyncio.wait_for(stop.wait(), timeout=10)


@pytest.mark.parametrize("loop_has_signal_handlers", [True, False])
async def test_dispatch_stops_on_sigint_and_restores_the_handlers(
    loop_has_signal_handlers: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    if not loop_has_signal_handlers:

        def none(*_args: Any) -> None:
            raise NotImplementedError  # as Windows' ProactorEventLoop and SelectorEventLoop do

        monkeypatch.setattr(loop, "add_signal_handler", none)
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    assert await run(Waiting(), drain=False) == 0  # type: ignore[arg-type]
    assert {signum: signal.getsignal(signum) for signum in before} == before
