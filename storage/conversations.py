"""Teams conversation references: stored at install, refreshed on every activity.

A reference is the JSON Bot Framework gives (service URL, conversation, bot, tenant); keeping it in the
database is what lets proactive posts work after a restart or on another replica.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import ConversationRef, TeamsMember


class SqlConversationRefs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def save(
        self,
        *,
        conversation_id: str,
        scope: str,
        reference: dict[str, Any],
        now: datetime,
        user_id: str | None = None,
        team_id: str | None = None,
    ) -> None:
        """Insert or refresh the reference for ``conversation_id`` (one statement, idempotent)."""
        module = postgresql if self._dialect == "postgresql" else sqlite
        values = {
            "conversation_id": conversation_id,
            "scope": scope,
            "user_id": user_id,
            "team_id": team_id,
            "reference": reference,
            "updated_at": now,
        }
        statement = module.insert(ConversationRef).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[ConversationRef.conversation_id],
            set_={k: statement.excluded[k] for k in ("scope", "user_id", "team_id", "reference", "updated_at")},
        )
        with self._engine.begin() as conn:
            conn.execute(statement)

    def get(self, conversation_id: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            return conn.execute(
                select(ConversationRef.reference).where(ConversationRef.conversation_id == conversation_id)
            ).scalar_one_or_none()

    def personal(self, user_id: str) -> dict[str, Any] | None:
        """The newest personal (1:1) conversation with ``user_id``, if the user ever installed or chatted."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(ConversationRef.reference)
                .where(ConversationRef.scope == "personal", ConversationRef.user_id == user_id)
                .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    def newest(self) -> dict[str, Any] | None:
        """Any recent reference: its service URL, tenant and bot are what creating a conversation needs."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(ConversationRef.reference)
                .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    def rosters(self, *, limit: int = 20) -> list[dict[str, Any]]:
        """References of the teams and group chats cxbot is in, newest first: whose rosters list people."""
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(ConversationRef.reference)
                    .where(ConversationRef.scope != "personal")
                    .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
                    .limit(limit)
                ).scalars()
            )

    def save_member(self, *, user_id: str, tenant_id: str | None, service_url: str, now: datetime) -> None:
        """Where ``user_id`` was last seen: their tenant and the service to reach it (one statement, idempotent)."""
        module = postgresql if self._dialect == "postgresql" else sqlite
        values = {"user_id": user_id, "tenant_id": tenant_id, "service_url": service_url, "updated_at": now}
        statement = module.insert(TeamsMember).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[TeamsMember.user_id],
            set_={k: statement.excluded[k] for k in ("tenant_id", "service_url", "updated_at")},
        )
        with self._engine.begin() as conn:
            conn.execute(statement)

    def member(self, user_id: str) -> tuple[str | None, str] | None:
        """``(tenant id, service URL)`` where ``user_id`` was last seen, or None if never."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(TeamsMember.tenant_id, TeamsMember.service_url).where(TeamsMember.user_id == user_id)
            ).first()
        return (row.tenant_id, row.service_url) if row else None
