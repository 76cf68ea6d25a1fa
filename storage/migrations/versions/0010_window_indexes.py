"""indexes for counting a channel's images and reviews in a window (metrics, the digest)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_images_project_created", "images", ["project_id", "created_at"])
    op.create_index("ix_gate_reviews_project_created", "gate_reviews", ["project_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_gate_reviews_project_created", table_name="gate_reviews")
    op.drop_index("ix_images_project_created", table_name="images")
