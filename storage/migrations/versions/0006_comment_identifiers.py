"""keyed hashes of the personal data each comment carried, for erasure

Revision ID: 0006_comment_identifiers
Revises: 0005_processed_index
Create Date: 2026-12-02 11:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_comment_identifiers"
down_revision: str | Sequence[str] | None = "0005_processed_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comment_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_identifiers_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_identifiers")),
        sa.UniqueConstraint("comment_id", "digest", name=op.f("uq_comment_identifiers_comment_id_digest")),
    )
    with op.batch_alter_table("comment_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_identifiers_digest"), ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comment_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_identifiers_digest"))
    op.drop_table("comment_identifiers")
