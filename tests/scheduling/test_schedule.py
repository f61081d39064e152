"""Digest planning in the department's own timezone: DST, catch-up after downtime, empty periods, quiet hours.

Time is a value passed in (a controllable clock); nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from stories.config import Department, QuietHours
from stories.outbox import RecordingOutbox
from stories.schedule import (
    Schedule,
    crontab_trigger,
    digest_due,
    local_instant,
    next_runs,
    plan_digests,
    quiet_until,
)
from tests.scheduling.memory import MemoryStories

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, *args: int) -> datetime:
    """A local wall time in ``zone``, as an aware UTC instant."""
    return local_instant(datetime(*args), zone)


def last_until(outbox: RecordingOutbox, platform: str = "slack") -> datetime | None:
    ends = [datetime.fromisoformat(o.payload["until"]) for o in outbox.items.values() if o.platform == platform]
    return max(ends) if ends else None


def sweep(
    department: Department, stories: MemoryStories, *, start: datetime, end: datetime, every: timedelta
) -> RecordingOutbox:
    """What a scheduler waking every ``every`` from ``start`` to ``end`` plans, its outbox read back each time."""
    outbox = RecordingOutbox()
    now = start
    while now <= end:
        outbox.enqueue(
            plan_digests(
                department=department,
                channels={"slack": "C1"},
                last_until={"slack": last_until(outbox)},
                reader=stories,
                now=now,
            )
        )
        now += every
    return outbox


def hourly_stories(department: str, *, start: datetime, end: datetime) -> MemoryStories:
    stories = MemoryStories()
    moment = start
    while moment < end:
        stories.add(department, at=moment)
        moment += timedelta(hours=1)
    return stories


def test_new_york_weekday_digest_stays_at_nine_local_across_the_march_dst_change() -> None:
    sales = Department(name="Sales", schedule="0 9 * * mon-fri", timezone="America/New_York")
    start, end = datetime(2026, 3, 4, 12, tzinfo=UTC), datetime(2026, 3, 11, 12, tzinfo=UTC)
    stories = hourly_stories("Sales", start=start - timedelta(days=2), end=end)

    outbox = sweep(sales, stories, start=start, end=end, every=timedelta(minutes=10))

    slots = sorted(o.payload["slot"] for o in outbox.items.values())
    assert slots == [
        "2026-03-03T09:00",  # the first wake-up (Wed 07:00) catches up Tuesday's
        "2026-03-04T09:00",
        "2026-03-05T09:00",
        "2026-03-06T09:00",
        "2026-03-09T09:00",  # the first Monday on daylight time: 13:00 UTC instead of 14:00
        "2026-03-10T09:00",
    ]
    untils = sorted(datetime.fromisoformat(o.payload["until"]) for o in outbox.items.values())
    assert [u.astimezone(NEW_YORK).time() for u in untils] == [time(9)] * 6
    assert untils[3] == datetime(2026, 3, 6, 14, tzinfo=UTC)
    assert untils[4] == datetime(2026, 3, 9, 13, tzinfo=UTC)


def test_periods_chain_without_gap_or_overlap_across_the_dst_change() -> None:
    sales = Department(name="Sales", schedule="0 9 * * mon-fri", timezone="America/New_York")
    start, end = datetime(2026, 3, 4, 12, tzinfo=UTC), datetime(2026, 3, 11, 12, tzinfo=UTC)
    stories = hourly_stories("Sales", start=start - timedelta(days=2), end=end)

    outbox = sweep(sales, stories, start=start, end=end, every=timedelta(minutes=10))

    periods = sorted((o.payload["since"], o.payload["until"]) for o in outbox.items.values())
    for (_, until), (since, _) in pairwise(periods):
        assert since == until
    assert sum(o.payload["total"] for o in outbox.items.values()) == len(
        stories.stories_for_department(
            department="Sales",
            since=datetime.fromisoformat(periods[0][0]),
            until=datetime.fromisoformat(periods[-1][1]),
        )
    )


def test_slot_in_the_skipped_hour_is_posted_once_when_the_clocks_jump() -> None:
    night = Department(name="Ops", schedule="30 2 * * *", timezone="Europe/Berlin")
    start, end = datetime(2026, 3, 27, 2, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    stories = hourly_stories("Ops", start=start - timedelta(days=2), end=end)

    outbox = sweep(night, stories, start=start, end=end, every=timedelta(minutes=5))

    planned = {o.payload["slot"]: datetime.fromisoformat(o.payload["until"]) for o in outbox.items.values()}
    assert sorted(planned) == ["2026-03-27T02:30", "2026-03-28T02:30", "2026-03-29T02:30", "2026-03-30T02:30"]
    # 02:30 does not exist on 29 March in Berlin: due when the clocks jump to 03:00 (01:00 UTC), not skipped
    assert planned["2026-03-29T02:30"] == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_slot_in_the_repeated_hour_is_posted_once_though_the_cron_trigger_fires_twice() -> None:
    trigger = CronTrigger.from_crontab("30 2 * * *", timezone=BERLIN)
    fires, previous, now = [], None, datetime(2026, 10, 25, tzinfo=BERLIN)
    while (fire := trigger.get_next_fire_time(previous, now)) < datetime(2026, 10, 26, tzinfo=BERLIN):
        fires.append(fire)
        previous, now = fire, fire.astimezone(UTC) + timedelta(seconds=1)  # UTC: aware arithmetic drops fold
    assert len(fires) == 2  # APScheduler alone would wake us twice that night...

    night = Department(name="Ops", schedule="30 2 * * *", timezone="Europe/Berlin")
    start, end = datetime(2026, 10, 23, 1, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC)
    stories = hourly_stories("Ops", start=start - timedelta(days=2), end=end)
    outbox = sweep(night, stories, start=start, end=end, every=timedelta(minutes=5))

    planned = {o.payload["slot"]: datetime.fromisoformat(o.payload["until"]) for o in outbox.items.values()}
    assert sorted(planned) == ["2026-10-23T02:30", "2026-10-24T02:30", "2026-10-25T02:30", "2026-10-26T02:30"]
    assert planned["2026-10-25T02:30"] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # ...we post at the first


def test_half_hourly_schedule_gives_each_existing_local_slot_once_on_both_change_nights() -> None:
    often = Department(name="Ops", schedule="*/30 * * * *", timezone="Europe/Berlin")
    for day in (datetime(2026, 3, 29), datetime(2026, 10, 25)):
        start = local_instant(day, BERLIN) - timedelta(hours=1)
        end = local_instant(day + timedelta(days=1), BERLIN)
        stories = MemoryStories()
        for minute in range(-180, 26 * 60, 10):  # a story every ten minutes, so every slot has news
            stories.add("Ops", at=start + timedelta(minutes=minute + 1))

        outbox = sweep(often, stories, start=start, end=end, every=timedelta(minutes=1))

        slots = [o.payload["slot"] for o in outbox.items.values() if o.payload["slot"].startswith(f"{day:%Y-%m-%d}")]
        assert len(slots) == len(set(slots))
        if day.month == 3:  # 02:00 and 02:30 never happen; their time is in the 03:00 digest, nothing is lost
            assert len(slots) == 46 and "2026-03-29T03:00" in slots
        else:  # 02:00 and 02:30 happen twice; each is posted once, the first time
            assert len(slots) == 48


def test_catch_up_after_downtime_plans_one_digest_covering_every_missed_slot() -> None:
    sales = Department(name="Sales", schedule="0 9 * * mon-fri", timezone="America/New_York")
    stories = MemoryStories()
    monday_nine = at(NEW_YORK, 2026, 6, 1, 9, 0)
    for day in range(4):
        stories.add("Sales", at=monday_nine + timedelta(days=day, hours=2))
    thursday_ten = at(NEW_YORK, 2026, 6, 4, 10, 0)

    plans = plan_digests(
        department=sales,
        channels={"slack": "C1"},
        last_until={"slack": monday_nine},
        reader=stories,
        now=thursday_ten,
    )

    assert len(plans) == 1
    (plan,) = plans
    assert plan.key == "digest:Sales:slack:2026-06-04T09:00"
    assert datetime.fromisoformat(plan.payload["since"]) == monday_nine
    assert datetime.fromisoformat(plan.payload["until"]) == at(NEW_YORK, 2026, 6, 4, 9, 0)
    assert plan.payload["total"] == 3  # Mon, Tue, Wed; Thursday's story arrived after 09:00
    again = plan_digests(
        department=sales,
        channels={"slack": "C1"},
        last_until={"slack": datetime.fromisoformat(plan.payload["until"])},
        reader=stories,
        now=thursday_ten + timedelta(minutes=5),
    )
    assert again == []


def test_replicas_planning_the_same_slot_name_it_the_same() -> None:
    sales = Department(name="Sales", schedule="0 9 * * mon-fri", timezone="America/New_York")
    stories = MemoryStories()
    stories.add("Sales", at=at(NEW_YORK, 2026, 6, 3, 12, 0))
    plans = [
        plan_digests(department=sales, channels={"slack": "C1"}, last_until={"slack": None}, reader=stories, now=now)
        for now in (at(NEW_YORK, 2026, 6, 4, 9, 0), at(NEW_YORK, 2026, 6, 4, 9, 3))
    ]
    assert plans[0] == plans[1]
    outbox = RecordingOutbox()
    assert outbox.enqueue(plans[0]) == 1 and outbox.enqueue(plans[1]) == 0


def test_digest_with_nothing_new_is_not_planned() -> None:
    sales = Department(name="Sales", schedule="0 9 * * mon-fri", timezone="America/New_York")
    stories = MemoryStories()
    stories.add("Sales", at=at(NEW_YORK, 2026, 6, 2, 8, 0))  # before the last digest
    stories.add("Legal", at=at(NEW_YORK, 2026, 6, 2, 12, 0))  # another department's
    plans = plan_digests(
        department=sales,
        channels={"slack": "C1"},
        last_until={"slack": at(NEW_YORK, 2026, 6, 2, 9, 0)},
        reader=stories,
        now=at(NEW_YORK, 2026, 6, 3, 9, 1),
    )
    assert plans == []


def test_first_digest_covers_the_time_since_the_slot_before() -> None:
    sales = Department(name="Sales", schedule="0 9 * * mon-fri", timezone="America/New_York")
    due = digest_due(Schedule.of(sales), last_until=None, now=at(NEW_YORK, 2026, 6, 1, 9, 30))  # a Monday
    assert due is not None
    assert due.since == at(NEW_YORK, 2026, 5, 29, 9, 0)  # the Friday before
    assert due.until == at(NEW_YORK, 2026, 6, 1, 9, 0)


def test_one_digest_per_platform_each_with_its_own_history() -> None:
    finance = Department(name="Finance", schedule="0 10 * * *", timezone="Europe/Dublin")
    stories = MemoryStories()
    dublin = ZoneInfo("Europe/Dublin")
    stories.add("Finance", at=at(dublin, 2026, 6, 3, 12, 0))
    plans = plan_digests(
        department=finance,
        channels={"slack": "C1", "teams": "19:abc@thread.tacv2"},
        last_until={"slack": at(dublin, 2026, 6, 4, 10, 0), "teams": None},  # Slack already had today's
        reader=stories,
        now=at(dublin, 2026, 6, 4, 10, 1),
    )
    assert [(p.platform, p.channel, p.key) for p in plans] == [
        ("teams", "19:abc@thread.tacv2", "digest:Finance:teams:2026-06-04T10:00")
    ]


def test_digest_due_in_quiet_hours_waits_until_they_end() -> None:
    night = Department(
        name="Ops",
        schedule="0 6 * * *",
        timezone="Europe/Berlin",
        quiet_hours=QuietHours(start=time(22), end=time(7, 30)),
    )
    stories = MemoryStories()
    stories.add("Ops", at=at(BERLIN, 2026, 6, 3, 12, 0))
    (plan,) = plan_digests(
        department=night,
        channels={"slack": "C1"},
        last_until={"slack": None},
        reader=stories,
        now=at(BERLIN, 2026, 6, 4, 6, 0),
    )
    assert plan.not_before == at(BERLIN, 2026, 6, 4, 7, 30)


def test_quiet_hours_wrapping_midnight_end_the_next_morning() -> None:
    quiet = QuietHours(start=time(22), end=time(7))
    assert quiet_until(quiet, zone=BERLIN, moment=at(BERLIN, 2026, 6, 3, 23, 15)) == at(BERLIN, 2026, 6, 4, 7, 0)
    assert quiet_until(quiet, zone=BERLIN, moment=at(BERLIN, 2026, 6, 4, 6, 59)) == at(BERLIN, 2026, 6, 4, 7, 0)
    assert quiet_until(quiet, zone=BERLIN, moment=at(BERLIN, 2026, 6, 4, 7, 0)) is None


def test_immediate_department_gets_a_catch_up_of_only_the_stories_held_in_quiet_hours() -> None:
    service = Department(
        name="Service",
        delivery="immediate",
        schedule="30 8 * * *",
        timezone="Europe/London",
        quiet_hours=QuietHours(start=time(20), end=time(7, 30)),
    )
    london = ZoneInfo("Europe/London")
    stories = MemoryStories()
    stories.add("Service", at=at(london, 2026, 6, 3, 15, 0))  # posted at once
    held = [
        stories.add("Service", at=at(london, 2026, 6, 3, 22, 0)),
        stories.add("Service", at=at(london, 2026, 6, 4, 6, 0)),
    ]
    (plan,) = plan_digests(
        department=service,
        channels={"slack": "C1"},
        last_until={"slack": at(london, 2026, 6, 3, 8, 30)},
        reader=stories,
        now=at(london, 2026, 6, 4, 8, 30),
    )
    assert sorted(plan.payload["story_ids"]) == sorted(s.story_id for s in held)
    assert plan.payload["total"] == 2


def test_immediate_department_without_quiet_hours_gets_no_digest() -> None:
    service = Department(name="Service", delivery="immediate", schedule="30 8 * * *")
    stories = MemoryStories()
    stories.add("Service", at=datetime(2026, 6, 3, 15, tzinfo=UTC))
    plans = plan_digests(
        department=service,
        channels={"slack": "C1"},
        last_until={"slack": None},
        reader=stories,
        now=datetime(2026, 6, 4, 9, tzinfo=UTC),
    )
    assert plans == []


def test_next_runs_are_in_each_departments_timezone() -> None:
    departments = (
        Department(name="Sales", schedule="0 8 * * mon-fri", timezone="America/New_York"),
        Department(name="Quality", schedule="0 7 * * mon-fri", timezone="Europe/Berlin"),
    )
    runs = next_runs(departments, now=datetime(2026, 6, 5, 12, tzinfo=UTC))  # a Friday, 14:00 in Berlin
    assert [(d.name, s.label if s else None) for d, s in runs] == [
        ("Sales", "2026-06-08T08:00"),
        ("Quality", "2026-06-08T07:00"),
    ]


def test_numeric_weekdays_mean_what_they_mean_in_crontab_sunday_is_zero() -> None:
    weekdays = Department(name="Sales", schedule="0 9 * * 1-5", timezone="America/New_York")
    saturday = at(NEW_YORK, 2026, 6, 6, 0, 0)
    slots = Schedule.of(weekdays).slots(after=saturday, until=saturday + timedelta(days=7))
    assert [f"{s.local:%a}" for s in slots] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    sunday = Schedule("0 9 * * 0", "America/New_York").next_slot(saturday)
    assert sunday is not None and sunday.label == "2026-06-07T09:00"
    job = crontab_trigger(weekdays.schedule, timezone=NEW_YORK)  # the scheduler's job wakes on the same days
    assert job.get_next_fire_time(None, saturday) == datetime(2026, 6, 8, 9, tzinfo=NEW_YORK)
