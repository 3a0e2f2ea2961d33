"""Control-plane tables for where data goes: connections, exports, their segments.

A connection holds one Iterable project's API key, encrypted with Fernet
(``api_key_token``); only the key's last four characters are kept in clear.
An export with ``connection_id`` NULL has been detached: it is inactive and shows
"No connection".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audiencesync.store.models import Base, Segment, UTCDateTime, utc_now

EXPORT_MODES = ("mirror", "add-only")


class Connection(Base):
    """A link to one Iterable project, made by an administrator."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    name_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="iterable")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(8))
    base_url: Mapped[str | None] = mapped_column(Text)
    api_key_token: Mapped[str] = mapped_column(Text)
    key_last4: Mapped[str] = mapped_column(String(4))
    consent_version: Mapped[str] = mapped_column(String(32))
    consent_by: Mapped[str] = mapped_column(String(255))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    export_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now
    )

    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - SQLAlchemy reads it

    exports: Mapped[list[Export]] = relationship(back_populates="connection")


class Export(Base):
    """A destination setup: mapping, segments, schedule and mode on a connection."""

    __tablename__ = "exports"
    __table_args__ = (
        CheckConstraint(f"mode IN {EXPORT_MODES!r}", name="mode"),
        CheckConstraint("removal_brake BETWEEN 0 AND 100", name="removal_brake"),
        CheckConstraint("drift_threshold BETWEEN 0 AND 100", name="drift_threshold"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    name_key: Mapped[str] = mapped_column(String(255), unique=True)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="RESTRICT"), index=True
    )
    email_field: Mapped[str] = mapped_column(String(255))
    user_id_field: Mapped[str | None] = mapped_column(String(255))
    fields: Mapped[Any] = mapped_column(JSON, default=dict)
    schedule: Mapped[str] = mapped_column(String(255), default="refresh")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    mode: Mapped[str] = mapped_column(String(16), default="mirror")
    removal_brake: Mapped[int] = mapped_column(Integer, default=20)
    drift_threshold: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    auto_resync: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    consent_column: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now
    )

    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - SQLAlchemy reads it

    connection: Mapped[Connection | None] = relationship(back_populates="exports")
    segment_links: Mapped[list[ExportSegment]] = relationship(
        back_populates="export",
        order_by="ExportSegment.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ExportSegment(Base):
    """One segment of an export (the binding); its Iterable list id comes later."""

    __tablename__ = "export_segments"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)

    export: Mapped[Export] = relationship(back_populates="segment_links")
    segment: Mapped[Segment] = relationship()
