"""voice library: favorites, stored previews, Kokoro styles on custom voices, longer voice ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

VOICE_ID_COLUMNS = (
    ("users", "selected_voice_id"),
    ("jobs", "voice_model_id"),
    ("files", "voice_id"),
)


def upgrade() -> None:
    # A Kokoro blend is spelled as its voice id: af_bella(0.667)+af_sky(0.333)+...
    for table, column in VOICE_ID_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(length=200), existing_nullable=True)
    with op.batch_alter_table("voice_clones") as batch:
        batch.add_column(sa.Column("style", sa.JSON(), nullable=True))
    op.create_table(
        "voice_favorites",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("voice_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "voice_id"),
    )
    op.create_table(
        "voice_previews",
        sa.Column("voice_id", sa.String(length=200), nullable=False),
        sa.Column("blob_key", sa.String(length=512), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("voice_id"),
    )


def downgrade() -> None:
    op.drop_table("voice_previews")
    op.drop_table("voice_favorites")
    with op.batch_alter_table("voice_clones") as batch:
        batch.drop_column("style")
    for table, column in VOICE_ID_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(length=64), existing_nullable=True)
