"""An administrator's approval of held removals, kept with the run segment.

``run_segments.removals_approved`` is set when ``runs approve`` starts, before
anything is sent, so a pass that is killed and resumed still sends the approved
removals, and the hold counts as released.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``run_segments.removals_approved`` (false for every existing row)."""
    with op.batch_alter_table("run_segments") as batch:
        batch.add_column(
            sa.Column(
                "removals_approved",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    """Drop ``run_segments.removals_approved``."""
    with op.batch_alter_table("run_segments") as batch:
        batch.drop_column("removals_approved")
