"""Crontab lines as people write them, for APScheduler 3 (whose ``from_crontab`` numbers weekdays from Monday).

Both the configuration check and the scheduler read schedules through :func:`crontab_trigger`, so a schedule that
loads is one that runs on the days it says.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 (and 7) is Sunday


def _cron_day(value: str) -> int:
    if value.isdigit() and int(value) <= 7:
        return int(value)
    if value.lower() in _CRON_DAYS:
        return _CRON_DAYS.index(value.lower())
    raise ValueError(f"day of week {value!r} is not 0-7 or a day name")


def _named_days(field: str) -> str:
    """A crontab day-of-week field with its numbers as day names.

    APScheduler 3 reads numbers in ``from_crontab`` as 0 = Monday, crontab as 0 = Sunday: without this, "1-5"
    would run Tuesday to Saturday. Names mean the same to both, so a field without digits is kept as written.

    >>> _named_days("1-5"), _named_days("0,6"), _named_days("*/2"), _named_days("mon-fri")
    ('mon,tue,wed,thu,fri', 'sun,sat', 'sun,tue,thu,sat', 'mon-fri')
    """
    if not any(c.isdigit() for c in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            first, last = _cron_day(low), _cron_day(high)
            last += 7 if last < first else 0
        else:
            first = _cron_day(base)
            last = 6 if step_text else first
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_CRON_DAYS[day] for day in sorted(days))


def crontab_trigger(crontab: str, *, timezone: tzinfo) -> CronTrigger:
    """``CronTrigger.from_crontab`` with crontab's day numbers (0 or 7 = Sunday), for the schedules and the jobs."""
    fields = crontab.split()
    if len(fields) == 5:
        fields[4] = _named_days(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)
