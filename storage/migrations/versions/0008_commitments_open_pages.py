"""partial indexes that serve `/cx actions` pages (a department's and a person's open commitments in order);
the tenant each Teams user was last seen in (direct messages open in the user's own tenant)

Revision ID: 0008_commitments_open_pages
Revises: 0007_retention
Create Date: 2026-12-02 11:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0008_commitments_open_pages"
down_revision: str | Sequence[str] | None = "0007_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    op.create_table(
        "teams_members",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=100), nullable=True),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_teams_members")),
    )
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
    op.drop_table("teams_members")
