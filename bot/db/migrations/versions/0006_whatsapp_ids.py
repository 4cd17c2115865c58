"""A second id per user (WhatsApp phone next to the business-scoped user id), and on
deliveries the platform's message id and what its later statuses said.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("alt_external_id", sa.String(64), nullable=True))
        batch.create_index("ix_users_alt_external_id", ["alt_external_id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("sent_ref", sa.String(128), nullable=False, server_default=""))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_deliveries_sent_ref", ["sent_ref"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_sent_ref")
        batch.drop_column("read_at")
        batch.drop_column("delivered_at")
        batch.drop_column("sent_ref")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_alt_external_id")
        batch.drop_column("alt_external_id")
