"""An optional e-mail address per user, for notifications to administrators.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``users.email`` (nullable: nobody has to have an address)."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))


def downgrade() -> None:
    """Drop ``users.email``."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
