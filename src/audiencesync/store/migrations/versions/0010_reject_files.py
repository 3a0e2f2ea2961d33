"""A plan's invalid-in-source rejects are stored once per content, as Parquet.

``reject_files`` holds one zstd Parquet file per distinct set of rejects found
before sending (digest, rows, data); ``run_segments.invalid_file`` names the
one of each run segment. Rejects stored as ``run_rejects`` rows by earlier
versions stay there and are still read.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``reject_files`` and ``run_segments.invalid_file`` (empty)."""
    op.create_table(
        "reject_files",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("run_segments") as batch:
        batch.add_column(sa.Column("invalid_file", sa.String(64), nullable=True))
        batch.create_index(
            op.f("ix_run_segments_invalid_file"), ["invalid_file"], unique=False
        )
        batch.create_foreign_key(
            op.f("fk_run_segments_invalid_file_reject_files"),
            "reject_files",
            ["invalid_file"],
            ["digest"],
        )


def downgrade() -> None:
    """Drop the files and the column (their rejects are lost)."""
    with op.batch_alter_table("run_segments") as batch:
        batch.drop_constraint(
            op.f("fk_run_segments_invalid_file_reject_files"), type_="foreignkey"
        )
        batch.drop_index(op.f("ix_run_segments_invalid_file"))
        batch.drop_column("invalid_file")
    op.drop_table("reject_files")
