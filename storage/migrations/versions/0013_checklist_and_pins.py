"""a channel's own gate checklist items, and regions a send-back pins

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_settings") as settings:
        settings.add_column(
            sa.Column("checklist", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("gate_reviews") as reviews:
        reviews.add_column(sa.Column("channel_items", sa.JSON(), nullable=True))
    op.create_table(
        "gate_pins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "review_id",
            sa.Integer(),
            sa.ForeignKey("gate_reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "image_id", sa.Integer(), sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("item", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), sa.ForeignKey("images.id"), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_gate_pins_review_id", "gate_pins", ["review_id"])
    op.create_index("ix_gate_pins_image_id", "gate_pins", ["image_id"])


def downgrade() -> None:
    op.drop_index("ix_gate_pins_image_id", "gate_pins")
    op.drop_index("ix_gate_pins_review_id", "gate_pins")
    op.drop_table("gate_pins")
    with op.batch_alter_table("gate_reviews") as reviews:
        reviews.drop_column("channel_items")
    with op.batch_alter_table("channel_settings") as settings:
        settings.drop_column("checklist")
