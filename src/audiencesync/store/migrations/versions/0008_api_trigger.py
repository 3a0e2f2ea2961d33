"""A run may be requested through the REST API: the ``api`` trigger.

The API queues a run (status Queued, trigger ``api``) and the ``serve`` worker
executes it as the user who requested it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

BEFORE = "'manual', 'scheduled', 'refresh', 'resume'"
AFTER = f"{BEFORE}, 'api'"


def upgrade() -> None:
    """Allow ``runs.trigger = 'api'``."""
    with op.batch_alter_table("runs") as batch:
        # 0003 named the check in full; the naming convention names ours.
        batch.drop_constraint("ck_runs_trigger", type_="check")
        batch.create_check_constraint("trigger", f"trigger IN ({AFTER})")


def downgrade() -> None:
    """Runs requested through the API become manual runs; drop the trigger."""
    op.execute("UPDATE runs SET trigger = 'manual' WHERE trigger = 'api'")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(op.f("ck_runs_trigger"), type_="check")
        batch.create_check_constraint("ck_runs_trigger", f"trigger IN ({BEFORE})")
