"""A payload on deliveries, for replies that could not be sent at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("payload", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    # Older code knows no "reply" rows and would stumble on them.
    op.execute("DELETE FROM deliveries WHERE kind = 'reply'")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("payload")
