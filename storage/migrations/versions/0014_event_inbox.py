"""event inbox: chat events acknowledged but not yet handled, replayed after a crash; delivery priority (urgent)

Revision ID: 0014_event_inbox
Revises: 0013_rituals
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0014_event_inbox"
down_revision: str | Sequence[str] | None = "0013_rituals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_inbox",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_event_inbox")),
    )
    op.create_index(op.f("ix_event_inbox_lease_until"), "event_inbox", ["lease_until"], unique=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("priority")
    op.drop_index(op.f("ix_event_inbox_lease_until"), table_name="event_inbox")
    op.drop_table("event_inbox")
