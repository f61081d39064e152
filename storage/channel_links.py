"""A department's channel, linked at run time (Teams `cx link`): stories.commands.ChannelLinker."""

from __future__ import annotations

from sqlalchemy import Engine, update

from storage.departments import DepartmentIds
from storage.models import Department

_CHANNEL_COLUMN = {"slack": Department.slack_channel, "teams": Department.teams_channel}


class SqlChannelLinks:
    """Implements stories.commands.ChannelLinker."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    # --- channel links ----------------------------------------------------------------------------------------

    def link_channel(self, *, department: str, platform: str, channel: str) -> None:
        column = _CHANNEL_COLUMN[platform]
        with self._engine.begin() as conn:
            conn.execute(
                update(Department)
                .where(Department.id == self._departments.id_of(department))
                .values({column.key: channel})
            )
