"""The send budget that several instances share.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("budget", sa.String(64), primary_key=True),
        sa.Column("next_slot", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
