"""APScheduler 3 inside ``cxbot serve``: it wakes the planner, the database decides what is due.

Jobs (module-level functions, explicit ids, ``replace_existing=True``, in a per-process MemoryJobStore; APScheduler
3 must not share a job store between processes, so every replica runs its own):

- ``digest:<department>``: the department's crontab in its own timezone;
- ``reminders:<department>``: the nudge hour in the department's timezone (nudges, Monday summaries);
- ``report:<department>``: Monday morning, the weekly pattern report;
- ``rituals``: every few minutes and at start-up, the pulse question, ambassadors' stories and monthly summaries
  (stories/rituals.py; each key names the person and the month or digest slot);
- ``sweep``: every few minutes and once at start-up, for everything (catch-up after downtime, a misfire), and
  the weekly customer praise push to the CX team (stories/praise_push.py: from Monday at ``kudos.praise_hour``,
  keyed by ISO week);
- ``prune_processed`` and ``retention``: nightly, forget old inbound event keys (and inbox events given up); delete
  comments and stories older
  than CX_RETENTION_DAYS, keeping their weekly counts (storage/retention.py).

Each job only calls :meth:`stories.planning.Planner.queue`, which plans from the outbox's state and the clock with
keys on local slots and days. So a job that fires twice (APScheduler fires a 02:30 job twice on the night clocks
go back), late, on two replicas or not at all (the sweep catches up) still queues each delivery once; the
dispatcher then sends it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from storage.inbox import SqlEventInbox
from storage.processed import SqlProcessedEvents
from stories.crontab import crontab_trigger
from stories.patterns import REPORT_SCHEDULE

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(minutes=5)
MISFIRE_GRACE = 15 * 60  # seconds: a job this late still runs (the sweep covers anything later)
PROCESSED_KEEP = timedelta(days=7)  # inbound event keys kept for de-duplication; Slack and Teams retry for minutes


async def prune_processed(app: App) -> int:
    """The job: forget inbound event keys older than :data:`PROCESSED_KEEP` (every replica may run it)."""
    before = datetime.now(UTC) - PROCESSED_KEEP
    try:
        removed = await asyncio.to_thread(SqlProcessedEvents(app.engine).prune, before=before)
        # inbox rows that old were given up (their error logged) or left by a connector no longer configured
        await asyncio.to_thread(SqlEventInbox(app.engine, secret=app.settings.hash_key).prune, before=before)
    except Exception:
        log.exception("scheduler: pruning processed events failed; tomorrow's run tries again")
        return 0
    log.info("scheduler: forgot %d processed event keys", removed)
    return removed


async def apply_retention(app: App) -> dict[str, int]:
    """The job: delete comments and stories older than CX_RETENTION_DAYS, keeping their weekly counts
    (stories/retention.py); 0 days keeps everything. Every replica may run it: a comment is counted once."""
    days = app.settings.cx_retention_days
    if not days:
        return {}
    from storage.retention import SqlRetention

    try:
        removed = await asyncio.to_thread(
            SqlRetention(app.engine, app.departments).apply, before=datetime.now(UTC) - timedelta(days=days)
        )
    except Exception:
        log.exception("scheduler: retention failed; tomorrow's run tries again")
        return {}
    log.info("scheduler: retention (%d days) removed %s", days, removed)
    return removed


async def plan_due(app: App, department: str | None = None) -> int:
    """The job: queue what is due now (for one department, or all) and wake the dispatcher."""
    try:
        queued = await asyncio.to_thread(
            app.planner.queue, datetime.now(UTC), departments=None if department is None else [department]
        )
    except Exception:
        log.exception("scheduler: planning failed (department %s); the next sweep tries again", department or "all")
        return 0
    if queued:
        log.info("scheduler: queued %d deliveries (department %s)", queued, department or "all")
        app.dispatcher.kick()
    return queued


async def plan_rituals(app: App) -> int:
    """The job: queue the rituals' DMs due now (pulse, ambassadors' stories and summaries); keys make it idempotent."""
    try:
        queued = await asyncio.to_thread(app.rituals.queue, datetime.now(UTC))
    except Exception:
        log.exception("scheduler: planning the rituals failed; the next run tries again")
        return 0
    if queued:
        log.info("scheduler: queued %d ritual messages", queued)
        app.dispatcher.kick()
    return queued


async def learn_routing(app: App) -> bool:
    """The job: retrain the routing learner if due (batched corrections, nightly) and use the newest active
    version. Every replica may run it: a version trained twice is stored once (unique version numbers)."""
    try:
        outcome = await asyncio.to_thread(app.refresh_routing)
    except Exception:
        log.exception("scheduler: routing learner refresh failed; the next sweep tries again")
        return False
    return outcome is not None


def build_scheduler(app: App) -> AsyncIOScheduler:
    """The jobs for ``app.config`` (not started)."""
    scheduler = AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},
        job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE, "max_instances": 1},
        timezone=UTC,
    )
    config = app.config
    for department in config.departments:
        zone = ZoneInfo(department.timezone)
        jobs = {
            f"digest:{department.name}": crontab_trigger(department.schedule, timezone=zone),
            f"report:{department.name}": crontab_trigger(REPORT_SCHEDULE, timezone=zone),
        }
        if config.nudges.enabled:
            days = None if config.nudges.weekends else "mon-fri"
            jobs[f"reminders:{department.name}"] = CronTrigger(
                day_of_week=days, hour=config.nudges.hour, minute=0, timezone=zone
            )
        for job_id, trigger in jobs.items():
            scheduler.add_job(
                plan_due, trigger, id=job_id, kwargs={"app": app, "department": department.name}, replace_existing=True
            )
    scheduler.add_job(
        plan_due,
        IntervalTrigger(seconds=SWEEP_EVERY.total_seconds(), timezone=UTC),
        id="sweep",
        kwargs={"app": app},
        next_run_time=datetime.now(UTC),  # catch up at start-up
        replace_existing=True,
    )
    scheduler.add_job(
        plan_rituals,
        IntervalTrigger(seconds=SWEEP_EVERY.total_seconds(), timezone=UTC),
        id="rituals",
        kwargs={"app": app},
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    scheduler.add_job(
        learn_routing,
        IntervalTrigger(seconds=SWEEP_EVERY.total_seconds(), timezone=UTC),
        id="routing",
        kwargs={"app": app},
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    scheduler.add_job(
        prune_processed,
        CronTrigger(hour=3, minute=17, timezone=UTC),
        id="prune_processed",
        kwargs={"app": app},
        replace_existing=True,
    )
    scheduler.add_job(
        apply_retention,
        CronTrigger(hour=3, minute=37, timezone=UTC),
        id="retention",
        kwargs={"app": app},
        replace_existing=True,
    )
    return scheduler


def dispatching(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx``: the outbox dispatcher, and ``app.wake`` bound to this loop. The only place the
    dispatcher is started while serving (``cxbot dispatch`` drains it once instead)."""

    async def running(_web_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        app.wake.bind(asyncio.get_running_loop())
        task = asyncio.get_running_loop().create_task(app.dispatcher.run_forever(stop), name="dispatcher")
        try:
            yield
        finally:
            stop.set()
            await task
            app.wake.bind(None)

    return running


def lifecycle(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx``: the scheduler's jobs (use with :func:`dispatching`, which sends what they plan)."""

    async def running(_web_app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(app)
        scheduler.start()
        log.info("scheduler: %d jobs", len(scheduler.get_jobs()))
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)

    return running
