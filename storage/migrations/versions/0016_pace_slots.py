"""pace slots: the Slack workspace pace shared by every replica on one PostgreSQL

Revision ID: 0016_pace_slots
Revises: 0015_slack_user_workspaces
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_pace_slots"
down_revision: str | Sequence[str] | None = "0015_slack_user_workspaces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pace_slots",
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("slot_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "slot_start", name=op.f("pk_pace_slots")),
    )


def downgrade() -> None:
    op.drop_table("pace_slots")
