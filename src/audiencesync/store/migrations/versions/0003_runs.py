"""Bindings, runs, run segments, batch checkpoints, rejects and the export lock.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)
STATUSES = (
    "'queued', 'running', 'succeeded', 'rejects', 'held', 'retrying', 'failed',"
    " 'canceled', 'interrupted'"
)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"fk_{table}_{column}_{target}",
        ondelete=ondelete,
    )


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    """Create the sync engine's tables."""
    _bindings_and_runs()
    _run_segments()
    _checkpoints()


def _bindings_and_runs() -> None:
    op.create_table(
        "bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.BigInteger(), nullable=True),
        sa.Column("list_name", sa.String(255), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk("bindings", "export_id", "exports", "CASCADE"),
        _fk("bindings", "segment_id", "segments", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name="pk_bindings"),
        sa.UniqueConstraint(
            "export_id", "segment_id", name="uq_bindings_export_id_segment_id"
        ),
    )
    op.create_index("ix_bindings_export_id", "bindings", ["export_id"])
    op.create_index("ix_bindings_segment_id", "bindings", ["segment_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("heartbeat_at", WHEN, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "trigger IN ('manual', 'scheduled', 'refresh', 'resume')",
            name="ck_runs_trigger",
        ),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_runs_status"),
        _fk("runs", "export_id", "exports", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_export_id", "runs", ["export_id"])
    op.create_index("ix_runs_status", "runs", ["status"])


def _run_segments() -> None:
    op.create_table(
        "run_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("binding_id", sa.Integer(), nullable=False),
        sa.Column("segment_name", sa.String(255), nullable=False),
        sa.Column("list_id", sa.BigInteger(), nullable=True),
        sa.Column("list_action", sa.String(16), nullable=True),
        sa.Column("plan_path", sa.Text(), nullable=True),
        *(
            _count(name)
            for name in (
                "planned_add",
                "planned_update",
                "planned_remove",
                "unchanged",
                "added",
                "updated",
                "removed",
            )
        ),
        sa.Column("rejected", sa.JSON(), nullable=False),
        _count("invalid_in_source"),
        _count("not_consenting"),
        sa.Column("batches_total", sa.Integer(), nullable=False),
        sa.Column("batches_acked", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("held_removals", sa.Boolean(), nullable=False),
        sa.Column("expected_size", sa.BigInteger(), nullable=True),
        sa.Column("actual_size", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "list_action IN ('adopted', 'created', 'recreated', 'existing')",
            name="ck_run_segments_list_action",
        ),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_run_segments_status"),
        _fk("run_segments", "run_id", "runs", "CASCADE"),
        _fk("run_segments", "binding_id", "bindings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_run_segments"),
        sa.UniqueConstraint(
            "run_id", "binding_id", name="uq_run_segments_run_id_binding_id"
        ),
    )
    op.create_index("ix_run_segments_run_id", "run_segments", ["run_id"])
    op.create_index("ix_run_segments_binding_id", "run_segments", ["binding_id"])


def _checkpoints() -> None:
    op.create_table(
        "run_batches",
        sa.Column("run_segment_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("acked_at", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "action IN ('subscribe', 'unsubscribe')", name="ck_run_batches_action"
        ),
        _fk("run_batches", "run_segment_id", "run_segments", "CASCADE"),
        sa.PrimaryKeyConstraint("run_segment_id", "batch", name="pk_run_batches"),
    )
    op.create_table(
        "run_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_segment_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        _fk("run_rejects", "run_segment_id", "run_segments", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_run_rejects"),
    )
    op.create_index("ix_run_rejects_run_segment_id", "run_rejects", ["run_segment_id"])
    op.create_table(
        "final_rejects",
        sa.Column("binding_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("first_seen_run_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", WHEN, nullable=False),
        _fk("final_rejects", "binding_id", "bindings", "CASCADE"),
        _fk("final_rejects", "first_seen_run_id", "runs", "SET NULL"),
        sa.PrimaryKeyConstraint("binding_id", "identifier", name="pk_final_rejects"),
    )
    op.create_table(
        "export_locks",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _fk("export_locks", "export_id", "exports", "CASCADE"),
        _fk("export_locks", "run_id", "runs", "CASCADE"),
        sa.PrimaryKeyConstraint("export_id", name="pk_export_locks"),
    )


def downgrade() -> None:
    """Drop them again, dependants first."""
    op.drop_table("export_locks")
    op.drop_table("final_rejects")
    op.drop_index("ix_run_rejects_run_segment_id", "run_rejects")
    op.drop_table("run_rejects")
    op.drop_table("run_batches")
    op.drop_index("ix_run_segments_binding_id", "run_segments")
    op.drop_index("ix_run_segments_run_id", "run_segments")
    op.drop_table("run_segments")
    op.drop_index("ix_runs_status", "runs")
    op.drop_index("ix_runs_export_id", "runs")
    op.drop_table("runs")
    op.drop_index("ix_bindings_segment_id", "bindings")
    op.drop_index("ix_bindings_export_id", "bindings")
    op.drop_table("bindings")
