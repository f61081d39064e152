"""slack_user_workspaces: the workspace each Slack user was seen in (DMs use its installation's token); a
department's slack_channel holds one channel per workspace (500 characters)

Revision ID: 0015_slack_user_workspaces
Revises: 0014_event_inbox
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0015_slack_user_workspaces"
down_revision: str | Sequence[str] | None = "0014_event_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_user_workspaces",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=True),
        sa.Column("enterprise_id", sa.String(length=40), nullable=True),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_slack_user_workspaces")),
    )
    with op.batch_alter_table("departments") as batch:
        batch.alter_column("slack_channel", existing_type=sa.String(length=100), type_=sa.String(length=500))


def downgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.alter_column("slack_channel", existing_type=sa.String(length=500), type_=sa.String(length=100))
    op.drop_table("slack_user_workspaces")
