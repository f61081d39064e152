"""Everything the `/cx` commands read and write (stories.commands.CommandStore), one class per protocol."""

from __future__ import annotations

from storage.channel_links import SqlChannelLinks
from storage.fixproof import SqlFixProof
from storage.followthrough import SqlFollowThrough
from storage.followup import SqlFollowUps
from storage.kudos import SqlKudos
from storage.stats import SqlStats


class SqlCommandStore(SqlFollowUps, SqlKudos, SqlStats, SqlChannelLinks, SqlFixProof, SqlFollowThrough):
    """The union the commands need; each part keeps its own module (they share ``(engine, departments)``)."""
