"""Run an export: every segment into its Iterable list, crash-safe, several at once.

This is the engine; :mod:`audiencesync.app.runs` is the application service that
the CLI, the scheduler, the web API and the run worker call. The service checks
the actor may run the export and finds its credentials; it then hands the engine
a :class:`~audiencesync.sync.environment.RunEnv` (database, data folder, the
segments' members, where to report) and the export as a :class:`Target`.

:func:`run_target` marks runs whose process died Interrupted, and then either
continues the export's newest resumable run (Interrupted or Failed (retrying))
from its persisted plans, or starts a run: a new one, or one queued earlier (the
web API queues runs; the worker executes them). :func:`execute` is one pass over
a run; :mod:`audiencesync.sync.control` approves, discards and cancels.

A pass over a run takes the export's lease, moves the run to Running and
hands each segment to :func:`~audiencesync.sync.segment_pass.sync_segment`, in
turn for one segment or a dry run, else several at once
(:mod:`audiencesync.sync.together`).
How it ends:

- every segment done: Succeeded, Succeeded with rejects, Succeeded with drift
  when a list read back lacks members beyond the export's drift threshold, or
  Held when the removal brake held some removals (an administrator approves or
  discards);
- a segment whose condition the engine could not evaluate: that segment ends
  Failed (permanent) and the others go on; the run then ends Failed (permanent)
  (after approval, if it was Held too), its error naming the segment;
- a cancel asked for: Canceled once the batches in flight are answered;
- Iterable unreachable after the client's retries: Failed (retrying), which the
  next run resumes; a lost lease, Ctrl-C: Interrupted (resumable);
- anything else: Failed (permanent), and RunFailedError is raised.

Every pass's end is reported (``RunEnv.report``) once the run's record is final:
the application layer alerts the administrators from there. Acknowledged batches
are committed to the sync state whatever the ending. No identifier (email,
userId) and no key ever reaches a log line or a message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from audiencesync.errors import AudiencesyncError, ConflictError, RetryableError
from audiencesync.iterable.client import IterableClient
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Run
from audiencesync.sync.drift import DriftCheck
from audiencesync.sync.dry_run import dry_run_segment
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.history import require_export, run_info
from audiencesync.sync.interrupt import CtrlC, Interrupted
from audiencesync.sync.lane import DuckDBLane
from audiencesync.sync.lists import ListFinder
from audiencesync.sync.lock import (
    Lease,
    LeaseLostError,
    RunInProgressError,
    acquire,
    release,
    renew,
    this_process,
)
from audiencesync.sync.mapping import ExportMapping, Mode
from audiencesync.sync.outcomes import RunCanceledError, RunFailedError
from audiencesync.sync.progress import NoProgress, RunProgress
from audiencesync.sync.rates import load_rates, save_rates
from audiencesync.sync.records import (
    create_run,
    finish,
    get_run,
    is_cancel_requested,
    latest_resumable,
    start,
)
from audiencesync.sync.recovery import recover
from audiencesync.sync.resync import drift_note, needs_resync
from audiencesync.sync.retention import tidy_run_files
from audiencesync.sync.run_log import log_ended, log_started
from audiencesync.sync.segment_pass import PassContext, Target, sync_segment
from audiencesync.sync.statuses import RunStatus
from audiencesync.sync.together import sync_together

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.store.database import Database
    from audiencesync.sync.credentials import ExportCredentials
    from audiencesync.sync.environment import RunEnv
    from audiencesync.sync.history import RunInfo
    from audiencesync.sync.outcomes import SegmentOutcome

__all__ = ["NewRun", "RunFailedError", "execute", "load_target", "run_target"]

Clock = Callable[[], datetime]
KEEP_ALIVE_SECONDS = 20.0  # the lease (2 minutes) is renewed once a third is gone
_STOPPED = {
    RunStatus.FAILED_RETRYING,
    RunStatus.FAILED_PERMANENT,
    RunStatus.CANCELED,
    RunStatus.INTERRUPTED,
}


@dataclass(frozen=True, slots=True)
class Pass:
    """How one pass over a run goes: a dry run, or approving held removals."""

    dry_run: bool = False
    approve: bool = False


@dataclass(frozen=True, slots=True)
class NewRun:
    """A run to create: who asked for it, how, and what kind."""

    trigger: str
    requested_by: str
    dry_run: bool = False
    full_resync: bool = False


def run_target(
    env: RunEnv,
    target: Target,
    credentials: ExportCredentials,
    request: NewRun | int,
    *,
    now: Clock = utc_now,
    progress: RunProgress | None = None,
) -> RunInfo:
    """Run the export to its end (continuing a stopped run first).

    ``request`` is a new run to create, or the id of a Queued run to execute.
    A new run is a full resync when asked (see :mod:`audiencesync.sync.resync`),
    or when the export's last run drifted and the export has auto resync on.

    A stopped run (Interrupted, Failed (retrying)) of the export is continued
    from its persisted plan, sending only what Iterable has not acknowledged.
    Its plan was made from the data of its start, so when it ends well the run
    follows at once: it plans against the state the continued run left and
    sends only what changed since, so the list matches the segment as it is now.
    That run is returned. When the continued run did not end well, it is
    returned (a Queued run ends Canceled, saying so, rather than wait forever).

    A dry run plans every segment and names the list it would use, calling only
    Iterable's read endpoints: it creates no list, sends nothing, changes no sync
    state and takes no lock. Its counts are the run's ``planned_*`` figures.

    Raises RunInProgressError when another run holds the export (a Queued run
    stays Queued), and RunFailedError when the run ended Failed (permanent).
    """
    queued = request if isinstance(request, int) else None
    dry_run = _is_dry(env, request)
    if not dry_run:
        resumed = _continue_stopped(env, target, credentials, queued, now=now,
                                    progress=progress)  # fmt: skip
        if resumed is not None:
            return resumed
    with env.database.session() as session:
        resync = needs_resync(session, target.export_id)
        if isinstance(request, NewRun):
            run_id = create_run(
                session, target.export_id, trigger=request.trigger,
                requested_by=request.requested_by, dry_run=dry_run,
                full_resync=request.full_resync or resync,
            ).id  # fmt: skip
        else:
            run_id = request
            run = get_run(session, run_id)
            run.full_resync = run.full_resync or resync
    return execute(env, target, credentials, run_id, now=now, progress=progress,
                   fresh=True, how=Pass(dry_run=dry_run),
                   keep_queued=queued is not None)  # fmt: skip


def _is_dry(env: RunEnv, request: NewRun | int) -> bool:
    if isinstance(request, NewRun):
        return request.dry_run
    with env.database.session() as session:
        return get_run(session, request).dry_run


def _continue_stopped(
    env: RunEnv,
    target: Target,
    credentials: ExportCredentials,
    queued: int | None,
    *,
    now: Clock,
    progress: RunProgress | None,
) -> RunInfo | None:
    """Continue the export's stopped run, if any; its record unless it caught up."""
    with env.database.session() as session:
        recover(session, target.export_id, now=now())
        stopped = latest_resumable(session, target.export_id)
        resume_id = stopped.id if stopped is not None else None
    if resume_id is None:
        return None
    try:
        resumed = execute(env, target, credentials, resume_id, now=now,
                          progress=progress, fresh=False)  # fmt: skip
    except RunFailedError as exc:
        if queued is not None:
            _give_way(env, queued, resume_id, RunStatus.FAILED_PERMANENT, now=now)
        raise exc from None
    if resumed.status in _CAUGHT_UP:
        return None
    if queued is None:
        return resumed
    return _give_way(env, queued, resume_id, resumed.status, now=now)


def _give_way(
    env: RunEnv, queued: int, resumed: int, status: RunStatus, *, now: Clock
) -> RunInfo:
    """End a Queued run Canceled: the stopped run continued first did not end well."""
    with env.database.session() as session:
        finish(session, queued, RunStatus.CANCELED, now=now(), error=(
            f"Did not start: run {resumed} of the export, continued first, ended"
            f" {status}. Deal with run {resumed}, then run the export again."
        ))  # fmt: skip
        return run_info(session, queued)


_CAUGHT_UP = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_REJECTS, RunStatus.DRIFTED}
)


def resume(
    env: RunEnv,
    target: Target,
    credentials: ExportCredentials,
    run_id: int,
    *,
    now: Clock = utc_now,
    progress: RunProgress | None = None,
) -> RunInfo:
    """Continue an Interrupted or Failed (retrying) run from its persisted plans."""
    with env.database.session() as session:
        run = run_info(session, run_id)
    if not run.status.is_resumable:
        msg = (
            f"Run {run_id} is {run.status}; only Interrupted and Failed (retrying)"
            " runs can be resumed."
        )
        raise ConflictError(msg)
    return execute(env, target, credentials, run_id, now=now,
                   progress=progress, fresh=False)  # fmt: skip


def stopped_run(database: Database, run_id: int, *, now: Clock) -> RunInfo:
    """The run after marking it Interrupted if its process died."""
    with database.session() as session:
        recover(session, get_run(session, run_id).export_id, now=now())
        return require_export(run_info(session, run_id))


def connection_of(database: Database, name: str) -> tuple[str, str]:
    """The export's exact name and its connection's; ConflictError without one."""
    with database.session() as session:
        found = find_export(session, name)  # exact, or differing only in case
        name, connection = found.name, found.connection
        connection_name = None if connection is None else connection.name
    if connection_name is None:
        msg = f"Export {name!r} has no connection; attach one before running."
        raise ConflictError(msg, code="no_connection", details={"export": name})
    return name, connection_name


def load_target(database: Database, name: str) -> Target:
    """The export as a run target, read once at the start."""
    with database.session() as session:
        row = find_export(session, name)
        return Target(
            export_id=row.id,
            connection_id=row.connection_id or 0,
            name=row.name,
            mapping=ExportMapping(
                email_field=row.email_field,
                user_id_field=row.user_id_field,
                fields=dict(row.fields or {}),
                consent_column=row.consent_column,
                mode=cast("Mode", row.mode),
            ),
            removal_brake=row.removal_brake,
            drift_threshold=row.drift_threshold,
            segments=tuple(
                (link.segment.id, link.segment.name) for link in row.segment_links
            ),
        )


@dataclass(frozen=True, slots=True)
class _Job:
    """One pass over one run: what it runs, with what, and how."""

    env: RunEnv
    target: Target
    credentials: ExportCredentials
    run_id: int
    now: Clock
    progress: RunProgress
    how: Pass
    beat: Callable[[], None]


def execute(
    env: RunEnv,
    target: Target,
    credentials: ExportCredentials,
    run_id: int,
    *,
    now: Clock,
    progress: RunProgress | None,
    fresh: bool,
    how: Pass = Pass(),
    keep_queued: bool = False,
) -> RunInfo:
    """One pass over run ``run_id`` under the export's lease; the run's record.

    A fresh run the lease is refused to ends Canceled, unless ``keep_queued``:
    a Queued run then stays Queued, to be tried again.
    """
    database = env.database
    keeper = None
    if not how.dry_run:
        keeper = _Keeper.take(database, target, run_id, now=now, fresh=fresh,
                              keep_queued=keep_queued)  # fmt: skip
    job = _Job(
        env,
        target,
        credentials,
        run_id,
        now,
        progress or NoProgress(),
        how,
        keeper.beat if keeper else _no_beat,
    )
    began = time.monotonic()
    try:
        with database.session() as session:
            trigger = start(session, run_id, now=now()).trigger
        log_started(run_id, target.name, trigger, dry_run=how.dry_run, fresh=fresh)
        status, error = _drive(job)
        if error != _TAKEN_OVER:  # else the run is another runner's now
            with database.session() as session:
                _close_segments(session, run_id, status)
                finish(session, run_id, status, error=error, now=now())
    finally:
        if keeper is not None:
            keeper.release()
    with database.session() as session:
        info = run_info(session, run_id)
    log_ended(info, time.monotonic() - began, taken_over=error == _TAKEN_OVER)
    tidy_run_files(database, env.home, retention_days=env.retention_days, now=now())
    env.report(info)
    if status is RunStatus.FAILED_PERMANENT:
        raise RunFailedError(run_id, error or "it stopped.")
    return info


def _drive(job: _Job) -> tuple[RunStatus, str | None]:
    """Run the segments; the run's ending status and why, in safe words."""
    try:
        outcomes = asyncio.run(_segments(job))
    except (KeyboardInterrupt, Interrupted):
        with job.env.database.session() as session:
            _close_segments(session, job.run_id, RunStatus.INTERRUPTED)
            finish(session, job.run_id, RunStatus.INTERRUPTED, now=job.now(),
                   error="Stopped by the user. Resume the run, or run the"
                   " export again: its next run continues it.")  # fmt: skip
        raise KeyboardInterrupt from None
    except Exception as exc:
        return _stopped(exc, job.run_id)
    failed = " ".join(outcome.failed for outcome in outcomes if outcome.failed)
    if any(outcome.held for outcome in outcomes):
        return RunStatus.HELD, f"{_held_note(job.run_id)} {failed}".strip()
    if failed:
        return RunStatus.FAILED_PERMANENT, failed
    if any(outcome.drifted for outcome in outcomes):
        with job.env.database.session() as session:
            return RunStatus.DRIFTED, drift_note(session, job.run_id)
    if any(outcome.rejected for outcome in outcomes):
        return RunStatus.SUCCEEDED_WITH_REJECTS, None
    return RunStatus.SUCCEEDED, None


def _stopped(exc: Exception, run_id: int) -> tuple[RunStatus, str]:
    """The status and safe reason of a run that an exception stopped."""
    if isinstance(exc, RunCanceledError):
        reason = (
            "Canceled on request; the batches in flight were answered and every"
            " acknowledged batch is kept."
        )
        return RunStatus.CANCELED, reason
    if isinstance(exc, LeaseLostError):
        return RunStatus.INTERRUPTED, _TAKEN_OVER
    if isinstance(exc, RetryableError):
        return RunStatus.FAILED_RETRYING, (
            f"Iterable did not answer after retries ({type(exc).__name__});"
            " acknowledged batches are kept. The next run of the export (or a"
            f" resume of run {run_id}) continues it."
        )
    return RunStatus.FAILED_PERMANENT, _safe_reason(exc)


_TAKEN_OVER = "taken over"  # the lease was lost: the run is not ours to record


def _held_note(run_id: int) -> str:
    return (
        "Removals were held (by the removal brake, or because an earlier Held"
        " run of the export still holds them); additions went out. An administrator"
        f" must approve or discard the held removals of run {run_id}."
    )


async def _segments(job: _Job) -> list[SegmentOutcome]:
    credentials, database = job.credentials, job.env.database
    ctrl_c, lane = CtrlC(), DuckDBLane()
    async with IterableClient(
        credentials.api_key, region=credentials.region, base_url=credentials.base_url
    ) as client:
        ctx = PassContext(
            env=job.env,
            target=job.target,
            run_id=job.run_id,
            now=job.now,
            client=client,
            lists=ListFinder(client),
            progress=job.progress,
            drift=DriftCheck(database, credentials),
            beat=job.beat,
            lane=lane,
            dry_run=job.how.dry_run,
            together=_together(job),
            ctrl_c=ctrl_c,
        )
        with database.session() as session:
            client.resume_rates(load_rates(session, job.target.connection_id))
        try:
            return await _kept_alive(job.beat, _each_segment(job, ctx), ctrl_c)
        finally:
            lane.close()
            with database.session() as session:
                save_rates(session, job.target.connection_id, client.learned_rates())


def _together(job: _Job) -> bool:
    """Whether the pass has segments in progress at once (never in a dry run)."""
    many = len(job.target.segments) > 1
    return many and job.env.segments_at_once > 1 and not job.how.dry_run


async def _kept_alive(
    beat: Callable[[], None],
    work: Coroutine[Any, Any, list[SegmentOutcome]],
    ctrl_c: CtrlC | None = None,
) -> list[SegmentOutcome]:
    """Run ``work`` while renewing the lease on a timer, not only between batches.

    A call that retries through an outage can take longer than the lease; the
    lease must not expire under it, or another process would resume the run
    while this one still sends. A lost lease stops the work. Ctrl-C stops it
    (:mod:`audiencesync.sync.interrupt`); once pressed, the pass ends
    Interrupted however the work ended.
    """
    ctrl_c = ctrl_c or CtrlC()
    main = asyncio.ensure_future(work)
    lost: list[LeaseLostError] = []

    async def renew() -> None:
        while True:
            await asyncio.sleep(KEEP_ALIVE_SECONDS)
            try:
                beat()
            except LeaseLostError as exc:
                lost.append(exc)
                main.cancel()
                return

    keeper = asyncio.ensure_future(renew())
    try:
        with ctrl_c.watching():
            outcomes = await main
    except asyncio.CancelledError:
        if lost:
            raise lost[0] from None
        ctrl_c.check()
        raise
    except Exception:
        ctrl_c.check()  # an error after a press (DuckDB's "interrupted") is the press
        raise
    finally:
        keeper.cancel()
    ctrl_c.check()
    return outcomes


async def _each_segment(job: _Job, ctx: PassContext) -> list[SegmentOutcome]:
    if ctx.together:
        return await sync_together(ctx, job.target.segments, approve=job.how.approve,
                                   at_once=job.env.segments_at_once)  # fmt: skip
    database = job.env.database
    outcomes = []
    for segment in job.target.segments:
        if job.how.dry_run:
            outcomes.append(await dry_run_segment(ctx, segment))
            continue
        with database.session() as session:
            if is_cancel_requested(session, job.run_id):
                raise RunCanceledError(job.run_id)
        outcomes.append(await sync_segment(ctx, segment, approve=job.how.approve))
    return outcomes


class _Keeper:
    """Holds the export's lease for a pass and renews it well before it expires."""

    def __init__(self, database: Database, lease: Lease, now: Clock) -> None:
        self._database, self._lease, self._now = database, lease, now

    @classmethod
    def take(
        cls, database: Database, target: Target, run_id: int, *, now: Clock,
        fresh: bool, keep_queued: bool = False,
    ) -> _Keeper:  # fmt: skip
        """The lease; a refused new run is never started.

        A refused new run is recorded Canceled, unless ``keep_queued``. A new run
        holding the lease refuses itself when the export has a stopped run after
        all: a dead holder's lease that ended between the caller's look for a
        stopped run and this lock was taken over. The stopped run goes first: the
        new run is refused as if it had come a moment earlier, while the lease held.
        """
        try:
            lease = acquire(database, target.export_id, run_id,
                            holder=this_process(), now=now())  # fmt: skip
            if fresh:
                _refuse_beside_stopped(database, lease, target.name, now=now)
        except ConflictError as exc:
            if fresh and not keep_queued:
                with database.session() as session:
                    finish(session, run_id, RunStatus.CANCELED, error=str(exc),
                           now=now())  # fmt: skip
                if isinstance(exc, RunInProgressError):
                    exc.refused_run_id = run_id
            raise
        return cls(database, lease, now)

    def beat(self) -> None:
        """Renew the lease once a third of it has passed; LeaseLostError if taken."""
        now = self._now()
        if self._lease.expires_at - now < self._lease.duration * (2 / 3):
            self._lease = renew(self._database, self._lease, now=now)

    def release(self) -> None:
        """Give the export back."""
        release(self._database, self._lease)


def _refuse_beside_stopped(
    database: Database, lease: Lease, export: str, *, now: Clock
) -> None:
    """Give the lease back and raise RunInProgressError if a run of the export stopped.

    Under the lease no other run of the export can be alive: one still Running
    is marked Interrupted here, and the newest resumable run is named.
    """
    with database.session() as session:
        recover(session, lease.export_id, now=now())
        stopped = latest_resumable(session, lease.export_id)
        if stopped is None:
            return
        error = RunInProgressError(
            export,
            run_id=stopped.id,
            started_at=stopped.started_at or stopped.created_at,
            expires_at=now(),
        )
    release(database, lease)
    raise error


def _no_beat() -> None:
    """Dry runs hold no lease."""


def _close_segments(session: Session, run_id: int, status: RunStatus) -> None:
    """Give the run's unfinished segments the run's stopping status."""
    if status not in _STOPPED:
        return
    run: Run = get_run(session, run_id)
    for part in run.segments:
        current = RunStatus.from_code(part.status)
        if current is RunStatus.RUNNING or (
            current is RunStatus.QUEUED
            and status in {RunStatus.CANCELED, RunStatus.FAILED_PERMANENT}
        ):
            part.status = status.code


def _safe_reason(exc: BaseException) -> str:
    """Why the run broke, in words that hold no identifier and no key.

    Our own errors are written without identifiers or secrets; anything else
    is named by its type only, since its text may quote a profile value.
    """
    if isinstance(exc, AudiencesyncError):
        return str(exc)
    return f"an unexpected {type(exc).__name__} stopped it."
