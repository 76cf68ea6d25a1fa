"""GPU time: the runner seconds each job used and on what device; a channel's weekly cap

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(
            sa.Column("gpu_seconds", sa.Float(), nullable=False, server_default=sa.text("0"))
        )
        jobs.add_column(sa.Column("device", sa.String(64), nullable=True))
    with op.batch_alter_table("channel_settings") as settings:
        settings.add_column(sa.Column("gpu_minutes_weekly", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_settings") as settings:
        settings.drop_column("gpu_minutes_weekly")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("device")
        jobs.drop_column("gpu_seconds")
