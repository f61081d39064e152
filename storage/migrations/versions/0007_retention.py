"""weekly figures kept when the retention window removes comments and stories

Revision ID: 0007_retention
Revises: 0006_comment_identifiers
Create Date: 2026-12-02 11:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_retention"
down_revision: str | Sequence[str] | None = "0006_comment_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weekly_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.Column("nps", sa.JSON(), nullable=False),
        sa.Column("csat", sa.JSON(), nullable=False),
        sa.Column("stories_delivered", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_figures")),
        sa.UniqueConstraint("week_start", "department", name=op.f("uq_weekly_figures_week_start_department")),
    )


def downgrade() -> None:
    op.drop_table("weekly_figures")
