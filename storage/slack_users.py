"""Which Slack workspace each user belongs to: implements handlers.slack.workspaces.UserWorkspaces.

Written when a user's event, command or click arrives (and when users.info found them), read when a direct
message to them is sent under OAuth. One row per user; the latest sighting wins (one statement, idempotent).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import SlackUserWorkspace


class SqlSlackUsers:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite

    def workspace_of(self, user_id: str) -> tuple[str | None, str | None] | None:
        """``(enterprise_id, team_id)`` the user was last seen in, or None if never seen."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(SlackUserWorkspace.enterprise_id, SlackUserWorkspace.team_id).where(
                    SlackUserWorkspace.user_id == user_id
                )
            ).first()
        return None if row is None else (row[0], row[1])

    def remember(self, *, user_id: str, enterprise_id: str | None, team_id: str | None) -> None:
        values = {"user_id": user_id, "enterprise_id": enterprise_id, "team_id": team_id, "seen_at": datetime.now(UTC)}
        statement = self._dialect.insert(SlackUserWorkspace).values(values)  # type: ignore[attr-defined]
        statement = statement.on_conflict_do_update(
            index_elements=[SlackUserWorkspace.user_id],
            set_={"enterprise_id": enterprise_id, "team_id": team_id, "seen_at": values["seen_at"]},
        )
        with self._engine.begin() as conn:
            conn.execute(statement)
