"""recipe cards and images record their LoRAs (name, weight, sha256)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("recipes", "images"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("loras", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("recipes", "images"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("loras")
