"""A dispatcher process for the multi-process tests: ``python -m tests.scheduling.dispatch_worker``.

Built as ``cxbot dispatch`` builds one (Settings from the environment, the App, the Slack connector's notifier
via :func:`bot.dispatch.connect_notifiers`), with the lease and pace the test asks for. It prints ``ready``,
waits for a line on stdin when told to (so racing workers start together), drains the outbox, and prints
``{"sent": n}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta

from bot.app import build
from bot.dispatch import connect_notifiers, dispatcher_for
from bot.pacing import Limit, Pacer, unpaced
from bot.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lease", type=float, default=120.0, help="claim lease, seconds")
    parser.add_argument("--rate", type=float, default=0.0, help="posts per second per channel (0: unpaced)")
    parser.add_argument("--wait-for-go", action="store_true", help="start when a line arrives on stdin")
    args = parser.parse_args()

    app = build(Settings())
    connect_notifiers(app)
    pacer = unpaced() if not args.rate else Pacer(lanes={"slack": (Limit(1, 1 / args.rate),)}, platforms={})
    dispatcher = dispatcher_for(app, lease=timedelta(seconds=args.lease), pacer=pacer)
    print("ready", flush=True)
    if args.wait_for_go:
        sys.stdin.readline()
    sent = asyncio.run(dispatcher.drain(poll=0.1))
    print(json.dumps({"sent": sent}), flush=True)
    app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
