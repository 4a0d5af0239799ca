"""Sender heartbeats: a sending process that stops beating frees the rows it holds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.core.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "senderheartbeat",
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner"),
    )
    # The rescue asks "which claimed rows does no living sender hold": by lease owner.
    op.create_index("ix_checkin_lease_owner", "checkin", ["lease_owner"])


def downgrade() -> None:
    op.drop_index("ix_checkin_lease_owner", table_name="checkin")
    op.drop_table("senderheartbeat")
