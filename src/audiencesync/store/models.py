"""The control-plane tables, as SQLAlchemy 2 declarative models.

Every datetime column is a :class:`UTCDateTime`: it refuses naive datetimes and
always returns timezone-aware UTC values, on SQLite (which has no time zones) as
on PostgreSQL. Constraint names follow :data:`NAMING_CONVENTION`, so migrations
can refer to them on every engine.

A change here needs a new migration in ``store/migrations/versions``; a test
compares the migrated schema with these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SEGMENT_KINDS = ("rules", "where")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Convert to UTC; SQLite stores it without an offset."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"naive datetime {value.isoformat()} given; pass an aware datetime"
            raise ValueError(msg)
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 - the signature TypeDecorator calls
    ) -> datetime | None:
        """Attach UTC to SQLite's naive values; normalise the others to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every control-plane model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Segment(Base):
    """A named set of profiles, defined by rules or by a SQL condition."""

    __tablename__ = "segments"
    __table_args__ = (CheckConstraint(f"kind IN {SEGMENT_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    name_key: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    definition: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now
    )
    created_by: Mapped[str | None] = mapped_column(String(255))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - SQLAlchemy reads it

    evaluations: Mapped[list[SegmentEvaluation]] = relationship(
        back_populates="segment",
        order_by="SegmentEvaluation.evaluated_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SegmentEvaluation(Base):
    """One evaluation of a segment: when, how many members, how long, on what."""

    __tablename__ = "segment_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    member_count: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)

    segment: Mapped[Segment] = relationship(back_populates="evaluations")
