"""When each department's digest is due, and the one digest that covers everything since the last one.

A department's crontab names wall-clock times in its own timezone ("09:00 on weekdays, Europe/Berlin"). The
crontab is evaluated on local wall time (APScheduler's CronTrigger on naive local time read as UTC, so no
daylight-saving arithmetic happens inside the trigger), and each wall-clock *slot* is then placed on the time
line as the first instant at which the local clock reads that time or later:

- an ordinary local time is simply that instant;
- a local time the clocks jump over (spring forward) is due when the jump happens: not skipped;
- a local time that happens twice (fall back) is due the first time only: not doubled.

Slots are therefore in order, and a slot's local date and time ("2026-03-29T02:30") make a stable idempotency
key: every replica, every catch-up and every retry names the same digest the same way.

Catching up: the digest due at ``now`` is the one for the *latest* slot at or before ``now``; its period runs
from the end of the department's last digest, so after downtime one digest covers every missed slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from stories.config import Department, QuietHours
from stories.crontab import crontab_trigger
from stories.digest import build_digest
from stories.models import DigestView, StoryView
from stories.outbox import Outgoing
from stories.ports import StoryReader

_SECOND = timedelta(seconds=1)
# How far back to look for the latest slot: an hourly schedule is found in the first window, a yearly one
# (29 February) in the last.
_LOOKBACK = (timedelta(hours=2), timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=367))
_LEAP_LOOKBACK = timedelta(days=4 * 366)


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """One scheduled time: ``at`` (aware, UTC) when it is due; ``local`` the wall-clock time the crontab names."""

    at: datetime
    local: datetime  # naive, in the schedule's timezone

    @property
    def label(self) -> str:
        """The local date and time, minute precision: the stable part of an idempotency key."""
        return self.local.strftime("%Y-%m-%dT%H:%M")


def local_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in ``zone`` reads ``wall`` (naive) or later.

    >>> from zoneinfo import ZoneInfo
    >>> local_instant(datetime(2026, 3, 29, 2, 30), ZoneInfo("Europe/Berlin")).isoformat()  # skipped hour
    '2026-03-29T01:00:00+00:00'
    >>> local_instant(datetime(2026, 10, 25, 2, 30), ZoneInfo("Europe/Berlin")).isoformat()  # repeated hour
    '2026-10-25T00:30:00+00:00'
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    earlier, later = min(first, second), max(first, second)
    if _wall(earlier, zone) >= wall:  # an ordinary or a repeated time: the first occurrence
        return earlier
    # The clocks jumped over ``wall``: the jump lies in (earlier, later]; find it to the second.
    low, high = int(earlier.timestamp()), int(later.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), zone) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


class Schedule:
    """A crontab line in an IANA timezone, as slots on the time line (see the module docstring)."""

    def __init__(self, crontab: str, timezone: str) -> None:
        self.crontab = crontab
        self.zone = ZoneInfo(timezone)
        self._wall_trigger = crontab_trigger(crontab, timezone=UTC)

    @classmethod
    def of(cls, department: Department) -> Schedule:
        return cls(department.schedule, department.timezone)

    def _walls_from(self, wall: datetime) -> Iterator[datetime]:
        """Wall-clock slot times at or after ``wall`` (naive), in order."""
        moment: datetime | None = wall.replace(tzinfo=UTC)
        while moment is not None:
            fire = self._wall_trigger.get_next_fire_time(None, moment)
            if fire is None:
                return
            yield fire.replace(tzinfo=None)
            moment = fire + _SECOND

    def slots(self, *, after: datetime, until: datetime) -> Iterator[Slot]:
        """Slots due in ``(after, until]``, in order."""
        for wall in self._walls_from(_wall(after, self.zone)):
            at = local_instant(wall, self.zone)
            if at > until:
                return
            if at > after:
                yield Slot(at=at, local=wall)

    def next_slot(self, after: datetime) -> Slot | None:
        """The first slot due after ``after``."""
        for wall in self._walls_from(_wall(after, self.zone)):
            at = local_instant(wall, self.zone)
            if at > after:
                return Slot(at=at, local=wall)
        return None

    def latest_slot(self, now: datetime) -> Slot | None:
        """The last slot due at or before ``now``; when several slots share that instant (a skipped hour), the
        one latest on the wall clock, so the answer and its key do not depend on when it is asked."""
        for lookback in (*_LOOKBACK, _LEAP_LOOKBACK):
            latest = None
            for slot in self.slots(after=now - lookback, until=now):
                latest = slot
            if latest is not None:
                return latest
        return None


@dataclass(frozen=True, slots=True)
class DigestDue:
    """A department's digest to plan now: the slot it is for, and the period ``[since, until)`` it covers."""

    slot: Slot
    since: datetime
    until: datetime


def digest_due(schedule: Schedule, *, last_until: datetime | None, now: datetime) -> DigestDue | None:
    """The digest due at ``now``, or None when the latest slot is already covered.

    ``last_until`` is the end of the period of the last digest planned (for this department and platform), None
    if there was none; the first digest then covers the time since the slot before.
    """
    slot = schedule.latest_slot(now)
    if slot is None or (last_until is not None and last_until >= slot.at):
        return None
    if last_until is None:
        previous = schedule.latest_slot(slot.at - timedelta(microseconds=1))
        last_until = previous.at if previous is not None else slot.at - timedelta(days=7)
    return DigestDue(slot=slot, since=last_until, until=slot.at)


def quiet_until(quiet: QuietHours | None, *, zone: ZoneInfo, moment: datetime) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC), or None if ``moment`` is not in quiet hours."""
    if quiet is None:
        return None
    local = _wall(moment, zone)
    if not quiet.contains(local.time()):
        return None
    end_day: date = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
    return local_instant(datetime.combine(end_day, quiet.end), zone)


def in_quiet_hours(quiet: QuietHours | None, *, zone: ZoneInfo, moment: datetime) -> bool:
    return quiet_until(quiet, zone=zone, moment=moment) is not None


def digest_key(*, department: str, platform: str, slot: Slot) -> str:
    """``digest:Finance:slack:2026-03-30T09:00``: one per department, platform and scheduled local time."""
    return f"digest:{department}:{platform}:{slot.label}"


def plan_digests(
    *,
    department: Department,
    channels: Mapping[str, str],
    last_until: Mapping[str, datetime | None],
    reader: StoryReader,
    now: datetime,
) -> list[Outgoing]:
    """The digests a department is due at ``now``, one per platform it has a channel on.

    ``channels`` maps platform to channel; ``last_until`` platform to the end of its last digest. A digest with
    no stories is not planned. A department with ``immediate`` delivery gets a digest only of the stories that
    arrived in its quiet hours (they were held back); without quiet hours it gets none. A digest due inside
    quiet hours waits until they end.
    """
    schedule = Schedule.of(department)
    plans: list[Outgoing] = []
    for platform, channel in sorted(channels.items()):
        if not channel:
            continue
        due = digest_due(schedule, last_until=last_until.get(platform), now=now)
        if due is None:
            continue
        item = _digest_delivery(department, platform=platform, channel=channel, due=due, reader=reader, now=now)
        if item is not None:
            plans.append(item)
    return plans


def _digest_reader(department: Department, reader: StoryReader) -> StoryReader | None:
    """What a department's digest reads: everything, or for ``immediate`` delivery only the stories held back in
    its quiet hours (None: it has no quiet hours, so no digest)."""
    if department.delivery != "immediate":
        return reader
    if department.quiet_hours is None:
        return None
    quiet, zone = department.quiet_hours, ZoneInfo(department.timezone)
    return _HeldBack(reader, lambda moment: in_quiet_hours(quiet, zone=zone, moment=moment))


def _digest_delivery(
    department: Department, *, platform: str, channel: str, due: DigestDue, reader: StoryReader, now: datetime
) -> Outgoing | None:
    zone = ZoneInfo(department.timezone)
    held = _digest_reader(department, reader)
    if held is None:
        return None
    digest = build_digest(
        reader=held, department=department.name, since=due.since, until=due.until, limit=department.digest_size
    )
    if digest.total_in_period == 0:
        return None
    return Outgoing(
        key=digest_key(department=department.name, platform=platform, slot=due.slot),
        kind="digest",
        platform=platform,
        channel=channel,
        department=department.name,
        payload=digest_payload(digest, label=due.slot.label),
        not_before=quiet_until(department.quiet_hours, zone=zone, moment=max(now, due.slot.at)),
    )


def digest_payload(digest: DigestView, *, label: str) -> dict[str, object]:
    """What a digest delivery carries (the dispatcher re-reads the stories by id when it posts)."""
    return {
        "story_ids": [s.story_id for s in digest.stories],
        "since": digest.period_start.isoformat(),
        "until": digest.period_end.isoformat(),
        "total": digest.total_in_period,
        "open_commitments": digest.open_commitments,
        "slot": label,
    }


def digest_since_last(
    *, department: Department, last_until: datetime | None, reader: StoryReader, now: datetime
) -> DigestView:
    """The department's stories since its last digest (or its last scheduled slot), up to ``now``; for immediate
    delivery only those held back in quiet hours (the others were posted as they came)."""
    if last_until is None:
        latest = Schedule.of(department).latest_slot(now)
        last_until = latest.at if latest is not None else now - timedelta(days=7)
    held = _digest_reader(department, reader) or _HeldBack(reader, lambda _moment: False)
    return build_digest(
        reader=held, department=department.name, since=last_until, until=now, limit=department.digest_size
    )


def manual_digest(
    *,
    department: Department,
    platform: str,
    channel: str,
    last_until: datetime | None,
    reader: StoryReader,
    now: datetime,
) -> Outgoing | None:
    """``cxbot digest --now``: a digest of everything since the last one, now; None when nothing is new. The
    next scheduled digest then starts where this one ended."""
    digest = digest_since_last(department=department, last_until=last_until, reader=reader, now=now)
    if digest.total_in_period == 0:
        return None
    label = "now " + _wall(now, ZoneInfo(department.timezone)).strftime("%Y-%m-%dT%H:%M:%S")
    return Outgoing(
        key=f"digest:{department.name}:{platform}:{label}",
        kind="digest",
        platform=platform,
        channel=channel,
        department=department.name,
        payload=digest_payload(digest, label=label),
    )


class _HeldBack:
    """A StoryReader that keeps only the stories received while ``held`` (quiet hours) was true."""

    def __init__(self, reader: StoryReader, held: Callable[[datetime], bool]) -> None:
        self._reader = reader
        self._held = held

    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]:
        stories = self._reader.stories_for_department(department=department, since=since, until=until)
        return [s for s in stories if self._held(s.received_at)]

    def open_commitment_count(self, *, department: str) -> int:
        return self._reader.open_commitment_count(department=department)


def next_runs(departments: tuple[Department, ...], *, now: datetime) -> list[tuple[Department, Slot | None]]:
    """Each department's next scheduled slot after ``now`` (for ``cxbot schedule``)."""
    return [(d, Schedule.of(d).next_slot(now)) for d in departments]


__all__ = [
    "DigestDue",
    "Schedule",
    "Slot",
    "crontab_trigger",
    "digest_due",
    "digest_key",
    "digest_payload",
    "digest_since_last",
    "in_quiet_hours",
    "local_instant",
    "manual_digest",
    "next_runs",
    "plan_digests",
    "quiet_until",
]
