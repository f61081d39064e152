"""the routing learner: labelled comments and versioned models

Revision ID: 0010_routing_learner
Revises: 0009_story_backfill
Create Date: 2026-12-02 11:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_routing_learner"
down_revision: str | Sequence[str] | None = "0009_story_backfill"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "labelled_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labelled_comments")),
        sa.UniqueConstraint("key", name=op.f("uq_labelled_comments_key")),
    )
    op.create_table(
        "routing_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("held_out", sa.Integer(), nullable=False),
        sa.Column("rules_top1", sa.Float(), nullable=False),
        sa.Column("learned_top1", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_models")),
        sa.UniqueConstraint("version", name=op.f("uq_routing_models_version")),
    )


def downgrade() -> None:
    op.drop_table("routing_models")
    op.drop_table("labelled_comments")
