"""An approval or a resume asked for through the REST API waits for the worker.

``runs.queued_action`` (``approve`` or ``resume``) and ``runs.queued_by`` (the
user who asked) mark a Held or stopped run whose next pass the ``serve`` worker
executes, as that user. The run keeps its status until the pass starts.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``runs.queued_action`` and ``runs.queued_by`` (empty on every run)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("queued_action", sa.String(16), nullable=True))
        batch.add_column(sa.Column("queued_by", sa.String(255), nullable=True))
        batch.create_check_constraint(
            "queued_action", "queued_action IN ('approve', 'resume')"
        )


def downgrade() -> None:
    """Forget waiting approvals and resumes; drop the two columns."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(op.f("ck_runs_queued_action"), type_="check")
        batch.drop_column("queued_by")
        batch.drop_column("queued_action")
