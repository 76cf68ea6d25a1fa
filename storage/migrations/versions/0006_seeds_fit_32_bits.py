"""seeds hold any unsigned 32-bit value

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("recipes", "images"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seed", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    for table in ("recipes", "images"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seed", type_=sa.Integer(), existing_type=sa.BigInteger())
