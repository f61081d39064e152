"""``/cx kudos top [department]``: the month's kudos, counted so that they stay fair.

What is counted is people, not points: a person's line says how many *different* colleagues thanked them this
month (ten kudos from one giver count once), and the department view says how many of a department's people
were thanked. Kudos are capped per giver (``kudos.monthly_limit``), so nobody can buy a place, and people who
opted out are never listed. Kudos count for the department of the story they came from, else of the channel
they were given in (kudos given elsewhere count only in the whole-company view).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from stories.kudos import month_start, next_month
from stories.views import DepartmentThanks, KudosBoardRow, KudosBoardView

if TYPE_CHECKING:
    from stories.commands import CommandContext, Commands

BOARD_SIZE = 10


class KudosBoardReader(Protocol):
    def kudos_board(
        self, *, platform: str, since: datetime, until: datetime, department: str | None, limit: int
    ) -> list[KudosBoardRow]:
        """People thanked in ``[since, until)`` on ``platform`` (opted-out people left out), most different
        givers first, then most kudos, then by name."""
        ...

    def kudos_departments(self, *, platform: str, since: datetime, until: datetime) -> list[DepartmentThanks]:
        """Per department, how many different people were thanked (opted-out people left out), most first."""
        ...


def kudos_board(
    *, reader: KudosBoardReader, platform: str, now: datetime, department: str | None = None
) -> KudosBoardView:
    since = month_start(now)
    until = next_month(since)
    rows = reader.kudos_board(platform=platform, since=since, until=until, department=department, limit=BOARD_SIZE)
    departments = () if department else tuple(reader.kudos_departments(platform=platform, since=since, until=until))
    return KudosBoardView(month=f"{since:%B %Y}", department=department, rows=tuple(rows), departments=departments)


def run_top(commands: Commands, ctx: CommandContext, args: str) -> KudosBoardView:
    """The command: ``kudos top`` for everyone, ``kudos top finance`` for one department."""
    from stories.commands import resolve_department

    department = resolve_department(commands.config, args) if args else None
    return kudos_board(reader=commands.store, platform=ctx.actor.platform, now=commands.clock(), department=department)
