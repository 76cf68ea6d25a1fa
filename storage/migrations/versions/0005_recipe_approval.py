"""each recipe version records the Director's approval of its hero

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recipes") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    # Before this, one approval stood for the project: count it for the recipe it approved.
    op.execute(
        "UPDATE recipes SET approved_at = (SELECT hero_approved_at FROM projects"
        " WHERE projects.id = recipes.project_id)"
        " WHERE reproducible AND version = (SELECT MAX(r.version) FROM recipes r"
        " WHERE r.project_id = recipes.project_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("recipes") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
