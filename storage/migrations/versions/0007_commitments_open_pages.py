"""partial indexes that serve `/cx actions` pages: a department's and a person's open commitments in order

Revision ID: 0007_commitments_open_pages
Revises: 0006_comment_identifiers
Create Date: 2026-12-02 11:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_commitments_open_pages"
down_revision: str | Sequence[str] | None = "0006_comment_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commitments_open_department",
            ["department_id", "due_date", "id"],
            unique=False,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        )
        batch_op.create_index(
            "ix_commitments_open_owner",
            ["owner", "due_date", "id"],
            unique=False,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_open_owner")
        batch_op.drop_index("ix_commitments_open_department")
