"""Control-plane tables of the sync engine: bindings, runs, checkpoints, the lock.

A *binding* is one (export, segment) pair and the Iterable list it feeds; it
outlives the segment's place in the export, so a segment removed and added back
finds its list again, and a renamed segment keeps it. A *run* has one
*run segment* per binding it syncs; each acknowledged *batch* of a run segment is
a ``run_batches`` row, written together with the batch's ``run_rejects`` in one
transaction (the checkpoint); the rejects found before sending (invalid
in the source) are one ``reject_files`` row per content. ``final_rejects``
holds the identifiers Iterable reported as forgotten: never sent again to that
binding's list.

Identifiers (emails, userIds) are stored here because the rejects CSV needs
them; they stay in the control-plane database and are never logged.

Statuses are stored as the short codes of :data:`RUN_STATUS_CODES`
(:class:`audiencesync.sync.statuses.RunStatus` maps them to the displayed
words). ``run_batches.batch`` numbers one run segment's batches, subscribe and
unsubscribe alike, from 0.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audiencesync.store.models import Base, UTCDateTime, utc_now

RUN_STATUS_CODES = (
    "queued",
    "running",
    "succeeded",
    "rejects",
    "held",
    "retrying",
    "failed",
    "canceled",
    "interrupted",
    "discarded",
    "drift",
)
RUN_TRIGGERS = ("manual", "scheduled", "refresh", "resume", "api")
LIST_ACTIONS = ("adopted", "created", "recreated", "existing")
BATCH_ACTIONS = ("subscribe", "unsubscribe")
QUEUED_ACTIONS = ("approve", "resume")  # a pass of a Held or stopped run, queued


def new_state_key() -> str:
    """A fresh random identity for a binding's sync state."""
    return str(uuid.uuid4())


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(f"{column} IN {values!r}", name=column)


class Binding(Base):
    """One (export, segment) pair and the Iterable list it feeds."""

    __tablename__ = "bindings"
    __table_args__ = (UniqueConstraint("export_id", "segment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="RESTRICT"), index=True
    )
    list_id: Mapped[int | None] = mapped_column(BigInteger)
    list_name: Mapped[str | None] = mapped_column(String(255))
    state_key: Mapped[str] = mapped_column(String(36), default=new_state_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now
    )


class Run(Base):
    """One execution of an export; ``counts`` holds the run's totals."""

    __tablename__ = "runs"
    __table_args__ = (
        _one_of("trigger", RUN_TRIGGERS),
        _one_of("status", RUN_STATUS_CODES),
        _one_of("queued_action", QUEUED_ACTIONS),
        {"sqlite_autoincrement": True},  # a run id is never reused
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int | None] = mapped_column(
        ForeignKey("exports.id", ondelete="SET NULL"), index=True
    )
    export_name: Mapped[str] = mapped_column(String(255))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    full_resync: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    requested_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[Any] = mapped_column(JSON, default=dict)
    # An approval or resume asked through the API, waiting for the worker.
    queued_action: Mapped[str | None] = mapped_column(String(16))
    queued_by: Mapped[str | None] = mapped_column(String(255))

    segments: Mapped[list[RunSegment]] = relationship(
        back_populates="run",
        order_by="RunSegment.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class RunSegment(Base):
    """One binding's part of a run: its list, plan, counts and status."""

    __tablename__ = "run_segments"
    __table_args__ = (
        UniqueConstraint("run_id", "binding_id"),
        _one_of("list_action", LIST_ACTIONS),
        _one_of("status", RUN_STATUS_CODES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    binding_id: Mapped[int | None] = mapped_column(
        ForeignKey("bindings.id", ondelete="SET NULL"), index=True
    )
    segment_name: Mapped[str] = mapped_column(String(255))
    list_id: Mapped[int | None] = mapped_column(BigInteger)
    list_action: Mapped[str | None] = mapped_column(String(16))
    plan_path: Mapped[str | None] = mapped_column(Text)
    planned_add: Mapped[int] = mapped_column(BigInteger, default=0)
    planned_update: Mapped[int] = mapped_column(BigInteger, default=0)
    planned_remove: Mapped[int] = mapped_column(BigInteger, default=0)
    unchanged: Mapped[int] = mapped_column(BigInteger, default=0)
    added: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[int] = mapped_column(BigInteger, default=0)
    removed: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[Any] = mapped_column(JSON, default=dict)
    invalid_in_source: Mapped[int] = mapped_column(BigInteger, default=0)
    not_consenting: Mapped[int] = mapped_column(BigInteger, default=0)
    batches_total: Mapped[int] = mapped_column(Integer, default=0)
    batches_acked: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    held_removals: Mapped[bool] = mapped_column(Boolean, default=False)
    removals_approved: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    expected_size: Mapped[int | None] = mapped_column(BigInteger)
    actual_size: Mapped[int | None] = mapped_column(BigInteger)
    invalid_file: Mapped[str | None] = mapped_column(
        ForeignKey("reject_files.digest"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")

    run: Mapped[Run] = relationship(back_populates="segments")
    binding: Mapped[Binding | None] = relationship()


class RunBatch(Base):
    """One acknowledged batch of a run segment (the checkpoint)."""

    __tablename__ = "run_batches"
    __table_args__ = (_one_of("action", BATCH_ACTIONS),)

    run_segment_id: Mapped[int] = mapped_column(
        ForeignKey("run_segments.id", ondelete="CASCADE"), primary_key=True
    )
    batch: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class RunReject(Base):
    """One identifier that did not make it, with its bucket and reason."""

    __tablename__ = "run_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_segment_id: Mapped[int] = mapped_column(
        ForeignKey("run_segments.id", ondelete="CASCADE"), index=True
    )
    batch: Mapped[int | None] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(Text)
    profile_key: Mapped[str | None] = mapped_column(Text)
    bucket: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    retryable: Mapped[bool] = mapped_column(Boolean)


class RejectFile(Base):
    """A plan's invalid-in-source rejects as one Parquet file (zstd).

    A messy source has tens of thousands of them and they rarely change between
    runs: stored once per content (``digest``, its SHA-256) and shared by every
    run segment whose plan found the same ones (``run_segments.invalid_file``).
    Columns of the file: profile_key, email, reason, in profile key order.
    """

    __tablename__ = "reject_files"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FinalReject(Base):
    """An identifier never to be sent to a binding's list again (forgotten)."""

    __tablename__ = "final_rejects"

    binding_id: Mapped[int] = mapped_column(
        ForeignKey("bindings.id", ondelete="CASCADE"), primary_key=True
    )
    identifier: Mapped[str] = mapped_column(Text, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    first_seen_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ExportLock(Base):
    """The one-run-per-export lease: who holds the export, until when."""

    __tablename__ = "export_locks"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
