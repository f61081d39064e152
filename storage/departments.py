"""Departments mirror the configuration file; the database adds run-time links (Teams `cx link`)."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from storage.models import Department
from storage.upsert import insert_ignore
from stories.config import CxConfig


class DepartmentIds:
    """Name -> id, loaded once after :func:`sync_departments`; names are matched case-insensitively."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            rows = conn.execute(select(Department.id, Department.name)).all()
        self._ids = {name.casefold(): did for did, name in rows}
        self._names = {did: name for did, name in rows}

    def id_of(self, name: str) -> int:
        try:
            return self._ids[name.casefold()]
        except KeyError:
            raise KeyError(f"unknown department {name!r}") from None

    def name_of(self, department_id: int) -> str:
        return self._names[department_id]


def sync_departments(engine: Engine, config: CxConfig) -> DepartmentIds:
    """Insert departments new in the configuration and refresh the ones that exist (idempotent).

    A Teams channel linked at run time is kept unless the configuration names one.
    """
    with engine.begin() as conn:
        conn.execute(
            insert_ignore(Department, engine.dialect.name),
            [
                {
                    "name": d.name,
                    "slack_channel": d.slack_channel,
                    "teams_channel": d.teams_channel,
                    "rules": [],
                    "managers": [],
                    "ambassadors": [],
                    "delivery": d.delivery,
                    "schedule": d.schedule,
                    "timezone": d.timezone,
                }
                for d in config.departments
            ],
        )
        for dept in config.departments:
            rules = [
                r.model_dump(mode="json", exclude_defaults=True) for r in config.rules if r.department == dept.name
            ]
            values: dict[str, object] = {
                "slack_channel": dept.slack_channel,
                "rules": rules,
                "managers": list(dept.managers),
                "ambassadors": list(dept.ambassadors),
                "delivery": dept.delivery,
                "schedule": dept.schedule,
                "timezone": dept.timezone,
            }
            if dept.teams_channel:
                values["teams_channel"] = dept.teams_channel
            conn.execute(update(Department).where(Department.name == dept.name).values(**values))
    return DepartmentIds(engine)


def channel_map(engine: Engine, *, platforms: tuple[str, ...] = ("slack", "teams")) -> dict[tuple[str, str], str]:
    """``(department, platform) -> channel`` for the platforms given, read fresh (Teams links change at run time)."""
    with engine.connect() as conn:
        rows = conn.execute(select(Department.name, Department.slack_channel, Department.teams_channel)).all()
    result: dict[tuple[str, str], str] = {}
    for name, slack, teams in rows:
        if "slack" in platforms and slack:
            result[(name, "slack")] = slack
        if "teams" in platforms and teams:
            result[(name, "teams")] = teams
    return result
