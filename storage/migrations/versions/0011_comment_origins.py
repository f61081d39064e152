"""where in chat each comment came in and who passed it on (the loop told back), and deliveries found by message

Revision ID: 0011_comment_origins
Revises: 0010_routing_learner
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011_comment_origins"
down_revision: str | Sequence[str] | None = "0010_routing_learner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comment_origins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=300), nullable=False),
        sa.Column("thread", sa.String(length=300), nullable=False),
        sa.Column("sender", sa.String(length=100), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_origins_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_origins")),
        sa.UniqueConstraint(
            "comment_id",
            "platform",
            "via",
            "channel",
            "thread",
            "sender",
            name=op.f("uq_comment_origins_place"),
        ),
    )
    with op.batch_alter_table("comment_origins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_origins_comment_id"), ["comment_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_platform_message_id", ["platform", "message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_platform_message_id")
    with op.batch_alter_table("comment_origins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_origins_comment_id"))
    op.drop_table("comment_origins")
