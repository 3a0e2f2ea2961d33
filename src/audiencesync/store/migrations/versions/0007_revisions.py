"""A revision number on connections, exports and segments, for optimistic edits.

Each row starts at revision 1 and every ORM update raises it by one, in the same
statement that checks it (SQLAlchemy's ``version_id_col``), so two people who
edit the same thing at once cannot silently overwrite each other: the REST API
sends it as the ETag, and a stale ``If-Match`` is refused.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("connections", "exports", "segments")


def upgrade() -> None:
    """Add ``revision`` (1 for every existing row) to the three edited tables."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("revision", sa.Integer(), nullable=False, server_default="1")
            )


def downgrade() -> None:
    """Drop ``revision`` from the three tables."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("revision")
