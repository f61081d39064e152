"""rituals: meeting openers, ambassadors added in chat, the anonymous pulse

Revision ID: 0013_rituals
Revises: 0012_kudos_limits_optout
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013_rituals"
down_revision: str | Sequence[str] | None = "0012_kudos_limits_optout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "openers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=300), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_openers_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openers")),
        sa.UniqueConstraint("key", name=op.f("uq_openers_key")),
    )
    op.create_index("ix_openers_platform_channel_created_at", "openers", ["platform", "channel", "created_at"])
    op.create_table(
        "ambassadors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambassadors")),
        sa.UniqueConstraint(
            "department", "platform", "user_id", name=op.f("uq_ambassadors_department_platform_user_id")
        ),
    )
    op.create_table(
        "pulse_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_members")),
        sa.UniqueConstraint("platform", "user_id", name=op.f("uq_pulse_members_platform_user_id")),
    )
    op.create_table(
        "pulse_answered",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_pulse_answered")),
    )
    op.create_index(op.f("ix_pulse_answered_month"), "pulse_answered", ["month"])
    op.create_table(
        "pulse_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_counts")),
        sa.UniqueConstraint("month", "department", name=op.f("uq_pulse_counts_month_department")),
    )


def downgrade() -> None:
    op.drop_table("pulse_counts")
    op.drop_index(op.f("ix_pulse_answered_month"), table_name="pulse_answered")
    op.drop_table("pulse_answered")
    op.drop_table("pulse_members")
    op.drop_table("ambassadors")
    op.drop_index("ix_openers_platform_channel_created_at", table_name="openers")
    op.drop_table("openers")
