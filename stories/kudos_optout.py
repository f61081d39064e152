"""``/cx kudos optout`` and ``optin``: public thanks are not everyone's wish.

An opted-out person receives no public kudos (the giver is told, kindly, to thank them directly), is left out
of the monthly board, and their name is left out of praise suggestions. Their own choice, so anyone may set it
for themselves and nobody for someone else. Kudos already given stay as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from stories.views import Notice

if TYPE_CHECKING:
    from stories.commands import CommandContext, Commands


class KudosOptOuts(Protocol):
    def set_kudos_optout(self, *, platform: str, user_id: str, name: str | None, out: bool, now: datetime) -> bool:
        """Opt ``user_id`` out (``out``) or back in; whether anything changed (repeating it is a no-op)."""
        ...


def run_optout(commands: Commands, ctx: CommandContext, args: str) -> Notice:
    actor = ctx.actor
    changed = commands.store.set_kudos_optout(
        platform=actor.platform, user_id=actor.user_id, name=actor.name, out=True, now=commands.clock()
    )
    already = "" if changed else "You had already opted out. "
    return Notice(
        f"{already}Done: you will not receive public kudos, and you are left out of the kudos board and of praise "
        f"suggestions. {commands.prefix(ctx)} kudos optin undoes it."
    )


def run_optin(commands: Commands, ctx: CommandContext, args: str) -> Notice:
    actor = ctx.actor
    changed = commands.store.set_kudos_optout(
        platform=actor.platform, user_id=actor.user_id, name=actor.name, out=False, now=commands.clock()
    )
    return Notice("Welcome back: colleagues can thank you publicly again." if changed else "You were already in.")
