"""Users, API tokens, audit events, system settings, connections and exports.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the accounts and destinations tables."""
    _accounts()
    _destinations()


def _accounts() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'contributor', 'viewer')", name="ck_users_role"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("name_key", name="uq_users_name_key"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_api_tokens_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_table(
        "system_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_system_settings"),
    )


def _destinations() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(8), nullable=True),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("api_key_token", sa.Text(), nullable=False),
        sa.Column("key_last4", sa.String(4), nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("consent_by", sa.String(255), nullable=False),
        sa.Column("consent_at", WHEN, nullable=False),
        sa.Column("export_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["export_user_id"],
            ["users.id"],
            name="fk_connections_export_user_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
        sa.UniqueConstraint("name", name="uq_connections_name"),
        sa.UniqueConstraint("name_key", name="uq_connections_name_key"),
    )
    op.create_index("ix_connections_export_user_id", "connections", ["export_user_id"])
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("email_field", sa.String(255), nullable=False),
        sa.Column("user_id_field", sa.String(255), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("removal_brake", sa.Integer(), nullable=False),
        sa.Column("consent_column", sa.String(255), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("mode IN ('mirror', 'add-only')", name="ck_exports_mode"),
        sa.CheckConstraint(
            "removal_brake BETWEEN 0 AND 100", name="ck_exports_removal_brake"
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name="fk_exports_connection_id_connections",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exports"),
        sa.UniqueConstraint("name", name="uq_exports_name"),
        sa.UniqueConstraint("name_key", name="uq_exports_name_key"),
    )
    op.create_index("ix_exports_connection_id", "exports", ["connection_id"])
    op.create_table(
        "export_segments",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name="fk_export_segments_export_id_exports",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name="fk_export_segments_segment_id_segments",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("export_id", "segment_id", name="pk_export_segments"),
    )
    op.create_index("ix_export_segments_segment_id", "export_segments", ["segment_id"])


def downgrade() -> None:
    """Drop them again, dependants first."""
    op.drop_index("ix_export_segments_segment_id", "export_segments")
    op.drop_table("export_segments")
    op.drop_index("ix_exports_connection_id", "exports")
    op.drop_table("exports")
    op.drop_index("ix_connections_export_user_id", "connections")
    op.drop_table("connections")
    op.drop_table("system_settings")
    op.drop_index("ix_audit_events_at", "audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_api_tokens_user_id", "api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
