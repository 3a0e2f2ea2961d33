"""One run per export at a time, across processes and machines: a database lease.

:func:`acquire` takes the export's row in ``export_locks`` with one atomic
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <= now RETURNING``
(PostgreSQL and SQLite both have it; only the winner gets a row back). It wins
when there is no row, or when the row's lease has expired because its holder
died; of two racing acquirers exactly one wins, since the loser's conflict check
sees the winner's fresh lease. A runner :func:`renew`\\s its lease well before it
expires (at every batch) and :func:`release`\\s it at the end; a runner whose
lease was taken over gets LeaseLostError and stops.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Dialect, Insert, and_, delete, select, update
from sqlalchemy.orm import Session

from audiencesync.errors import ConflictError
from audiencesync.store.database import Database
from audiencesync.store.destinations import Export
from audiencesync.store.models import utc_now
from audiencesync.store.runs import ExportLock, Run

DEFAULT_LEASE = timedelta(minutes=2)
ATTEMPTS = 3  # a holder may release between our refused upsert and our look


def this_process() -> str:
    """The holder name of this process: ``host:pid:space`` (see :func:`holder_of`)."""
    return holder_of(os.getpid())


def holder_of(pid: int) -> str:
    """The holder name of process ``pid`` of this host: ``host:pid:space``.

    ``space`` names the process table ``pid`` belongs to: a digest of the kernel's
    boot id and this process's pid namespace. A hostname alone does not name a
    machine (two containers with host networking share one, each with its own
    pids), so a pid is only checked where both match.
    """
    return f"{_host()}:{pid}:{_pid_space()}"


def _host() -> str:
    """This host's name, cut to fit the holder column (255) beside pid and space."""
    return socket.gethostname()[:200]


@functools.cache
def _pid_space() -> str:
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = Path("/proc/self/ns/pid").stat().st_ino
    except OSError:
        namespace = 0
    return hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:12]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return ""


def holder_is_dead(holder: str) -> bool:
    """Whether ``holder`` is a process of this process table that no longer runs.

    A holder of another host, boot or pid namespace (or named the way earlier
    versions named it) is never known dead: its lease must expire. A zombie
    (killed, not yet reaped by its parent) counts as dead.
    """
    host, pid_text, space = [*holder.split(":"), "", ""][:3]
    here = (_host(), _pid_space())
    if (host, space) != here or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to run one export until ``expires_at``, unless renewed."""

    export_id: int
    run_id: int
    holder: str
    expires_at: datetime
    duration: timedelta


class RunInProgressError(ConflictError):
    """Raised when another run holds the export's lock."""

    def __init__(
        self,
        export: str,
        *,
        run_id: int,
        started_at: datetime,
        expires_at: datetime,
        holder: str = "",
    ) -> None:
        self.export, self.run_id, self.holder = export, run_id, holder
        self.started_at, self.expires_at = started_at, expires_at
        self.refused_run_id: int | None = None  # the run recorded Canceled, if any
        msg = (
            f"Export {export!r} is already running (run {run_id}, started"
            f" {started_at:%Y-%m-%d %H:%M} UTC; its lock expires at"
            f" {expires_at:%H:%M:%S} UTC unless renewed). Wait for it, or cancel"
            f" run {run_id}."
        )
        super().__init__(
            msg, code="run_in_progress", details={"export": export, "run_id": run_id}
        )


class LeaseLostError(ConflictError):
    """Raised when a lease expired and another run took the export over."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        msg = (
            f"Run {lease.run_id} lost the lock of export {lease.export_id}: its"
            f" lease expired at {lease.expires_at:%H:%M:%S} UTC and another run"
            " took over. This run stops; resume it later."
        )
        super().__init__(msg)


def acquire(
    database: Database,
    export_id: int,
    run_id: int,
    *,
    holder: str,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> Lease:
    """Take the export for ``run_id``, or raise RunInProgressError naming the holder."""
    now = now or utc_now()
    values = {
        "export_id": export_id,
        "run_id": run_id,
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + lease,
    }
    for _ in range(ATTEMPTS):
        with database.session() as session:
            statement = _upsert(session.get_bind().dialect, values, now=now)
            if session.execute(statement).first() is not None:
                return Lease(export_id, run_id, holder, now + lease, lease)
            error = _in_progress(session, export_id)
            if error is not None and holder_is_dead(error.holder):
                _clear(session, export_id, error)
                continue
        if error is not None:
            raise error
    msg = f"The lock of export {export_id} keeps changing hands; try again."
    raise ConflictError(msg)


def renew(database: Database, lease: Lease, *, now: datetime | None = None) -> Lease:
    """The lease extended to ``now + duration``; LeaseLostError if it was taken."""
    expires_at = (now or utc_now()) + lease.duration
    with database.session() as session:
        renewed = session.execute(
            update(ExportLock)
            .where(_held_by(lease))
            .values(expires_at=expires_at)
            .returning(ExportLock.run_id)
        ).first()
        if renewed is None:
            raise LeaseLostError(lease)
    return replace(lease, expires_at=expires_at)


def release(database: Database, lease: Lease) -> None:
    """Give the export back (nothing happens when the lease was already lost)."""
    with database.session() as session:
        session.connection().execute(delete(ExportLock).where(_held_by(lease)))


def _held_by(lease: Lease) -> ColumnElement[bool]:
    return and_(
        ExportLock.export_id == lease.export_id,
        ExportLock.run_id == lease.run_id,
        ExportLock.holder == lease.holder,
    )


def _upsert(dialect: Dialect, values: dict[str, object], *, now: datetime) -> Insert:
    # Only the dialect in use is imported: PostgreSQL's costs SQLite users 0.05 s.
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        pg_statement = pg_insert(ExportLock).values(values)
        return pg_statement.on_conflict_do_update(
            index_elements=[ExportLock.export_id],
            set_=_taken(values, pg_statement.excluded),
            where=ExportLock.expires_at <= now,
        ).returning(ExportLock.run_id)  # a row back: inserted or taken over
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

    statement = sqlite_insert(ExportLock).values(values)
    return statement.on_conflict_do_update(
        index_elements=[ExportLock.export_id],
        set_=_taken(values, statement.excluded),
        where=ExportLock.expires_at <= now,
    ).returning(ExportLock.run_id)


def _taken(values: dict[str, object], excluded: Any) -> dict[str, Any]:
    """The new holder's values, written over an expired lock's row."""
    return {name: excluded[name] for name in values if name != "export_id"}


def _clear(session: Session, export_id: int, held: RunInProgressError) -> None:
    """Drop the lock of a dead holder (only if it still holds it)."""
    session.execute(
        delete(ExportLock).where(
            ExportLock.export_id == export_id,
            ExportLock.run_id == held.run_id,
            ExportLock.holder == held.holder,
        )
    )


def _in_progress(session: Session, export_id: int) -> RunInProgressError | None:
    row = session.execute(
        select(Export.name, ExportLock.run_id, ExportLock.acquired_at)
        .add_columns(ExportLock.expires_at, Run.started_at, ExportLock.holder)
        .join(Export, Export.id == ExportLock.export_id)
        .join(Run, Run.id == ExportLock.run_id)
        .where(ExportLock.export_id == export_id)
    ).one_or_none()
    if row is None:
        return None
    name, run_id, acquired_at, expires_at, started_at, holder = row
    return RunInProgressError(
        name,
        run_id=run_id,
        started_at=started_at or acquired_at,
        expires_at=expires_at,
        holder=holder,
    )
