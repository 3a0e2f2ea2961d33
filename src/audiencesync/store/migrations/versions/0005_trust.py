"""Runs a user can trust: history outlives exports, new statuses, identities.

- ``runs.export_id`` and ``run_segments.binding_id`` become nullable and
  ``ON DELETE SET NULL``: removing an export keeps its runs (shown under
  ``runs.export_name``); run ids are never reused (``AUTOINCREMENT`` on SQLite);
- ``runs.full_resync``: the run re-sends every current member;
- two statuses: ``discarded`` (held removals discarded) and ``drift`` (succeeded,
  but the list read back differs beyond the export's drift threshold);
- ``run_rejects.profile_key``: the profile behind each reject;
- ``bindings.state_key``: a random identity written into the binding's sync
  state, so a state file that is not this binding's is never trusted;
- ``exports.drift_threshold`` (percent) and ``exports.auto_resync``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

OLD_STATUSES = (
    "'queued', 'running', 'succeeded', 'rejects', 'held', 'retrying', 'failed',"
    " 'canceled', 'interrupted'"
)
STATUSES = f"{OLD_STATUSES}, 'discarded', 'drift'"


def upgrade() -> None:
    """Apply the changes listed in the module docstring."""
    _runs(STATUSES, nullable=True, ondelete="SET NULL")
    _run_segments(STATUSES, nullable=True, ondelete="SET NULL")
    with op.batch_alter_table("run_rejects") as batch:
        batch.add_column(sa.Column("profile_key", sa.Text(), nullable=True))
    with op.batch_alter_table("bindings") as batch:
        batch.add_column(sa.Column("state_key", sa.String(36), nullable=True))
    _fill_state_keys()
    with op.batch_alter_table("bindings") as batch:
        batch.alter_column("state_key", existing_type=sa.String(36), nullable=False)
    with op.batch_alter_table("exports") as batch:
        batch.add_column(
            sa.Column(
                "drift_threshold", sa.Integer(), nullable=False, server_default="5"
            )
        )
        batch.add_column(
            sa.Column(
                "auto_resync", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch.create_check_constraint(
            "drift_threshold", "drift_threshold BETWEEN 0 AND 100"
        )


def _runs(statuses: str, *, nullable: bool, ondelete: str) -> None:
    if not nullable:
        op.execute("DELETE FROM runs WHERE export_id IS NULL")
    with op.batch_alter_table(
        "runs", table_kwargs={"sqlite_autoincrement": nullable}
    ) as batch:
        if nullable:
            batch.add_column(sa.Column("export_name", sa.String(255), nullable=True))
            batch.add_column(
                sa.Column(
                    "full_resync",
                    sa.Boolean(),
                    nullable=False,
                    server_default=sa.false(),
                )
            )
        else:
            batch.drop_column("full_resync")
            batch.drop_column("export_name")
        batch.alter_column("export_id", existing_type=sa.Integer(), nullable=nullable)
        batch.drop_constraint("fk_runs_export_id_exports", type_="foreignkey")
        batch.create_foreign_key(
            "fk_runs_export_id_exports",
            "exports",
            ["export_id"],
            ["id"],
            ondelete=ondelete,
        )
        batch.drop_constraint(_check_name("ck_runs_status", nullable), type_="check")
        batch.create_check_constraint("status", f"status IN ({statuses})")
    if nullable:
        op.execute(
            "UPDATE runs SET export_name ="
            " (SELECT name FROM exports WHERE exports.id = runs.export_id)"
        )
        with op.batch_alter_table("runs") as batch:
            batch.alter_column(
                "export_name", existing_type=sa.String(255), nullable=False
            )


def _run_segments(statuses: str, *, nullable: bool, ondelete: str) -> None:
    if not nullable:
        op.execute("DELETE FROM run_segments WHERE binding_id IS NULL")
    with op.batch_alter_table("run_segments") as batch:
        batch.alter_column("binding_id", existing_type=sa.Integer(), nullable=nullable)
        batch.drop_constraint("fk_run_segments_binding_id_bindings", type_="foreignkey")
        batch.create_foreign_key(
            "fk_run_segments_binding_id_bindings",
            "bindings",
            ["binding_id"],
            ["id"],
            ondelete=ondelete,
        )
        batch.drop_constraint(
            _check_name("ck_run_segments_status", nullable), type_="check"
        )
        batch.create_check_constraint("status", f"status IN ({statuses})")


def _check_name(name: str, upgrading: bool) -> str:
    # 0003 named the check in full; ours went through the naming convention.
    return name if upgrading else op.f(name)


def _fill_state_keys() -> None:
    bindings = sa.table("bindings", sa.column("id"), sa.column("state_key"))
    connection = op.get_bind()
    for (binding_id,) in connection.execute(sa.select(bindings.c.id)).all():
        connection.execute(
            bindings.update()
            .where(bindings.c.id == binding_id)
            .values(state_key=str(uuid.uuid4()))
        )


def downgrade() -> None:
    """Undo them (runs of removed exports and the new statuses' runs are lost)."""
    with op.batch_alter_table("exports") as batch:
        batch.drop_constraint("drift_threshold", type_="check")
        batch.drop_column("auto_resync")
        batch.drop_column("drift_threshold")
    with op.batch_alter_table("bindings") as batch:
        batch.drop_column("state_key")
    with op.batch_alter_table("run_rejects") as batch:
        batch.drop_column("profile_key")
    for table in ("runs", "run_segments"):
        op.execute(
            f"DELETE FROM {table} WHERE status IN ('discarded', 'drift')"  # noqa: S608 - fixed names
        )
    _run_segments(OLD_STATUSES, nullable=False, ondelete="CASCADE")
    _runs(OLD_STATUSES, nullable=False, ondelete="CASCADE")
