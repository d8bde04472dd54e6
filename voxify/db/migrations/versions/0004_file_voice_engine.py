"""files: the voice and engine that spoke each output (usage statistics)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("voice_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("engine", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("engine")
        batch.drop_column("voice_id")
