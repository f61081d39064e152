"""kudos: receiver name and department (leaderboards), a giver index (monthly limit), opt-outs

Revision ID: 0012_kudos_limits_optout
Revises: 0011_comment_origins
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0012_kudos_limits_optout"
down_revision: str | Sequence[str] | None = "0011_comment_origins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receiver_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("department", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_kudos_giver_created_at", ["giver", "created_at"], unique=False)
    op.create_table(
        "kudos_optouts",
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "user_id", name=op.f("pk_kudos_optouts")),
    )


def downgrade() -> None:
    op.drop_table("kudos_optouts")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_giver_created_at")
        batch_op.drop_column("department")
        batch_op.drop_column("receiver_name")
