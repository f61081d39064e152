"""Admin commands for schedules and delivery: ``cxbot digest``, ``cxbot schedule``, ``cxbot dispatch``.

- ``cxbot digest --department NAME --now`` posts that department's digest of everything new since its last one
  (all departments without ``--department``) and waits until it is sent.
- ``cxbot digest --dry-run [--department NAME]`` prints what the next digests hold so far and where they would be
  posted; it queues and posts nothing.
- ``cxbot schedule`` lists every department's next digest in its own timezone, with the reminder hour.
- ``cxbot dispatch [--drain]`` runs a dispatcher without the web server (see bot/dispatch.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from bot.settings import Settings
from stories.patterns import REPORT_SCHEDULE
from stories.planning import Planner

if TYPE_CHECKING:
    from bot.app import App

SEND_TIMEOUT = 120.0  # seconds `digest --now` waits for its digests to be sent


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    digest = sub.add_parser("digest", help="post digests now, or show what they would hold (--dry-run)")
    digest.add_argument("--department", action="append", metavar="NAME", help="only this department (repeatable)")
    mode = digest.add_mutually_exclusive_group(required=True)
    mode.add_argument("--now", action="store_true", help="post each digest of what is new since the last one, now")
    mode.add_argument("--dry-run", action="store_true", help="print what would be posted where; post nothing")
    digest.set_defaults(func=cmd_digest)

    schedule = sub.add_parser("schedule", help="every department's next digest, in its own timezone")
    schedule.set_defaults(func=cmd_schedule)

    dispatch = sub.add_parser("dispatch", help="send what the outbox holds (a dispatcher without the web server)")
    dispatch.add_argument("--drain", action="store_true", help="exit when nothing is pending or claimed")
    dispatch.add_argument("--lease", type=float, default=120.0, help="claim lease in seconds (default 120)")
    dispatch.set_defaults(func=cmd_dispatch)


def _app(settings: Settings) -> App:
    from bot.app import build

    return build(settings)


def _departments(app: App, names: list[str] | None) -> list[str] | None:
    """Names as configured; an unknown one stops with the list of known ones."""
    if not names:
        return None
    known = {d.name.casefold(): d.name for d in app.config.departments}
    unknown = [n for n in names if n.casefold() not in known]
    if unknown:
        choices = ", ".join(repr(d) for d in app.config.department_names)
        raise SystemExit(f"cxbot: unknown department {unknown[0]!r}; use one of {choices}")
    return [known[n.casefold()] for n in names]


def clock() -> datetime:
    """Now, read once per command (a module attribute so tests can run the commands at a fixed instant)."""
    return datetime.now(UTC)


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    app = _app(settings)
    try:
        departments = _departments(app, args.department)
        planner = app.planner
        now = clock()
        if args.dry_run:
            return _print_previews(planner, now, departments)
        if not app.platforms:
            print(
                "cxbot digest: no platform is configured, so there is nowhere to post: set SLACK_BOT_TOKEN (or "
                "SLACK_CLIENT_ID for OAuth) for Slack, or MICROSOFT_APP_ID for Teams; --dry-run shows the digests",
                file=sys.stderr,
            )
            return 2
        queued = planner.digests_now(now, departments=departments)
        if not queued:
            print("nothing new since the last digest: nothing to post")
            return 0
        for item in queued:
            print(f"queued {item.key} -> {item.platform} {item.channel} ({item.payload['total']} stories)")
        return _send(app, [item.key for item in queued])
    finally:
        app.close()


def _print_previews(planner: Planner, now: datetime, departments: list[str] | None) -> int:
    from bot.terminal import digest_text

    previews = planner.previews(now, departments=departments)
    if not previews:
        print("no department has a channel on a configured platform: nothing would be posted")
    for preview in previews:
        department = preview.department
        when = "not scheduled"
        if preview.next_run is not None:
            when = f"next digest {preview.next_run.local:%a %d %b %H:%M} {department.timezone}"
        print(f"== {department.name} -> {preview.platform} {preview.channel} ({department.delivery}; {when})")
        if preview.digest.total_in_period:
            print(digest_text(preview.digest))
        else:
            print(
                f"   nothing new since {preview.digest.period_start.astimezone(ZoneInfo(department.timezone)):%a %d %b %H:%M}\n"
            )
    print("dry run: nothing was queued or posted")
    return 0


def _send(app: App, keys: list[str]) -> int:
    """Send what is due (these digests among it) with this process's notifiers, until these are sent."""
    from bot.dispatch import connect_notifiers

    if not connect_notifiers(app):
        print("no platform configured here (SLACK_BOT_TOKEN, MICROSOFT_APP_ID): a running `cxbot serve` will post them")
        return 0

    async def send() -> dict[str, str]:
        deadline = time.monotonic() + SEND_TIMEOUT
        states = app.outbox.states(keys)
        while any(state in ("pending", "claimed") for state in states.values()) and time.monotonic() < deadline:
            if not await app.dispatcher.run_once():
                await asyncio.sleep(0.5)
            states = app.outbox.states(keys)
        return states

    states = asyncio.run(send())
    for key, state in states.items():
        print(f"{key}: {state}")
    return 0 if all(state == "sent" for state in states.values()) else 1


def cmd_schedule(args: argparse.Namespace, settings: Settings) -> int:
    from bot.config import load_config
    from stories.schedule import next_runs

    config = load_config(settings.cx_config)
    now = clock()
    table = Table(title=f"Digest schedules (now {now:%Y-%m-%d %H:%M} UTC)")
    for column in ("Department", "Delivery", "Schedule", "Timezone", "Next digest (local)", "In UTC"):
        table.add_column(column)
    for department, slot in next_runs(config.departments, now=now):
        delivery = department.delivery
        if department.quiet_hours is not None:
            delivery += f", quiet {department.quiet_hours.start:%H:%M}-{department.quiet_hours.end:%H:%M}"
        table.add_row(
            department.name,
            delivery,
            department.schedule,
            department.timezone,
            f"{slot.local:%a %d %b %Y %H:%M}" if slot else "never",
            f"{slot.at:%a %d %b %H:%M}" if slot else "",
        )
    console = Console(width=140)
    console.print(table)
    if config.nudges.enabled:
        days = "every day" if config.nudges.weekends else "weekdays"
        console.print(
            f"Reminders: {config.nudges.hour:02d}:00 in each department's timezone, {days}; managers' weekly summary "
            f"Mondays at {config.nudges.hour:02d}:00. Pattern reports: Mondays, {REPORT_SCHEDULE.split()[1]}:00 local."
        )
    else:
        console.print("Reminders: off.")
    return 0


def cmd_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.dispatch import cmd_dispatch as dispatch

    app = _app(settings)
    try:
        return dispatch(app, drain=args.drain, lease=args.lease)
    finally:
        app.close()
