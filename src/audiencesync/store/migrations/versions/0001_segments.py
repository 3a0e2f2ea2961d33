"""Segments and their evaluations.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``segments`` and ``segment_evaluations``."""
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.CheckConstraint("kind IN ('rules', 'where')", name="ck_segments_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
        sa.UniqueConstraint("name", name="uq_segments_name"),
        sa.UniqueConstraint("name_key", name="uq_segments_name_key"),
    )
    op.create_table(
        "segment_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member_count", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name="fk_segment_evaluations_segment_id_segments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_segment_evaluations"),
    )
    op.create_index(
        "ix_segment_evaluations_segment_id", "segment_evaluations", ["segment_id"]
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_segment_evaluations_segment_id", "segment_evaluations")
    op.drop_table("segment_evaluations")
    op.drop_table("segments")
