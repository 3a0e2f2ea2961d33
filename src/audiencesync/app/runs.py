"""The run service: run, queue, resume, cancel, approve, discard and read runs.

:class:`RunService` (``workspace.runs``) is what the command line, the
scheduler, the REST API and the run worker call; they never reach the sync
engine themselves. Two ways to run an export:

- :meth:`RunService.run` runs it now, in the caller's thread, to its end (the
  command line, the scheduler);
- :meth:`RunService.request` checks the actor may run it and records a
  **Queued** run (trigger ``api``) at once; the worker
  (:class:`audiencesync.app.worker.RunWorker`) later calls
  :meth:`RunService.execute_queued`, which runs it as the user who asked,
  through the export's lock. A Queued run whose requester was removed or may
  no longer run the export ends Failed (permanent), saying why; one whose
  export was removed ends Canceled. Neither waits forever, and none runs as
  somebody else.

Views (:mod:`audiencesync.app.views.runs`) are the one JSON shape of runs.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING

from audiencesync.app.running import (
    approvable,
    approve_run,
    cancel_run,
    discard_run,
    prepare_alerting,
    resumable,
    resume_run,
    run_env,
    run_export,
)
from audiencesync.app.views import Page
from audiencesync.app.views.runs import ListDriftView, RejectView, RunView
from audiencesync.app.workspace import Workspace
from audiencesync.auth.audit import record_event
from audiencesync.auth.directory import resolve_actor
from audiencesync.errors import (
    AccessDeniedError,
    ConflictError,
    ExportUserError,
    NotFoundError,
)
from audiencesync.store.models import utc_now
from audiencesync.sync.control import queue_pass
from audiencesync.sync.history import run_info, waiting_runs
from audiencesync.sync.lock import RunInProgressError
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.records import (
    create_run,
    finish,
    get_run,
    queue_action,
    release_abandoned_claims,
    release_queued_action,
    take_queued_action,
)
from audiencesync.sync.run_history import RunHistory
from audiencesync.sync.runner import run_target
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.store.runs import Run
    from audiencesync.sync.history import RejectRow, RunInfo
    from audiencesync.sync.progress import RunProgress

logger = logging.getLogger(__name__)

API = "api"  # the trigger of a run requested through the API, run by the worker
APPROVE, RESUME = "approve", "resume"  # the passes of a run the API queues
CSV_COLUMNS = (
    "segment", "batch", "profile_key", "identifier", "bucket", "reason", "retryable",
)  # fmt: skip
_NOT_NOW = (AccessDeniedError, ConflictError, ExportUserError, NotFoundError)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RunService:
    """Runs of exports, as the workspace's actor."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._history = RunHistory(workspace.database, workspace.actor)

    # --- running ---------------------------------------------------------

    def run(
        self,
        export: str,
        *,
        dry_run: bool = False,
        full: bool = False,
        trigger: str = "manual",
        progress: RunProgress | None = None,
    ) -> RunView:
        """Run the export now, to its end (a stopped run of it is continued first).

        Raises RunInProgressError when another run holds the export, and
        RunFailedError when the run ended Failed (permanent).
        """
        info = run_export(self._workspace, export, trigger=trigger, dry_run=dry_run,
                          full_resync=full, progress=progress)  # fmt: skip
        return RunView.of(info)

    def request(
        self, export: str, *, dry_run: bool = False, full: bool = False
    ) -> RunView:
        """Check the actor may run the export, and queue a run of it (Queued).

        Refusals are raised now (AccessDeniedError, NotFoundError,
        ExportUserError...); the worker executes the run later.
        """
        workspace = self._workspace
        target, _ = prepare_alerting(
            workspace, export, trigger="manual", dry_run=dry_run
        )  # a person asked: told now
        with workspace.database.session() as session:
            run = create_run(session, target.export_id, trigger=API,
                             requested_by=workspace.actor.name, dry_run=dry_run,
                             full_resync=full)  # fmt: skip
            details = {"export": target.name, "dry_run": dry_run, "full": full}
            record_event(session, workspace.actor, "run.request", target_type="run",
                         target=str(run.id), details=details)  # fmt: skip
            session.flush()
            return RunView.of(run_info(session, run.id))

    def waiting(self) -> list[int]:
        """The Queued runs' ids, oldest first."""
        with self._workspace.database.session() as session:
            return waiting_runs(session)

    def execute_queued(
        self, run_id: int, *, progress: RunProgress | None = None
    ) -> RunView:
        """Execute Queued run ``run_id`` as the user who requested it.

        The worker's step: a stopped run of the export is continued first, and
        the export's lock keeps one run per export (RunInProgressError leaves
        the run Queued). A run whose export is gone ends Canceled; one whose
        requester was removed, or may no longer run the export, ends Failed
        (permanent) with the reason: it never runs as anybody else.
        """
        workspace = self._workspace
        with workspace.database.session() as session:
            run = get_run(session, run_id)
            status = RunStatus.from_code(run.status)
            export_id, requester = run.export_id, run.requested_by
            queued_pass = run.queued_action is not None
        if queued_pass:
            return self._execute_pass(run_id, progress=progress)
        if status is not RunStatus.QUEUED:
            msg = f"Run {run_id} is {status}, not Queued: there is nothing to execute."
            raise ConflictError(msg, details={"run_id": run_id})
        if export_id is None:
            return self._end(run_id, RunStatus.CANCELED,
                             "Its export was removed before it started.")  # fmt: skip
        try:
            actor = resolve_actor(workspace.database, requester)
        except (AccessDeniedError, NotFoundError) as exc:
            return self._refused(run_id, f"Its requester {requester!r}: {exc}")
        as_requester = Workspace(workspace.settings, workspace.database,
                                 workspace.engine, actor)  # fmt: skip
        return self._execute(as_requester, run_id, progress=progress)

    def _execute(
        self, workspace: Workspace, run_id: int, *, progress: RunProgress | None
    ) -> RunView:
        with workspace.database.session() as session:
            queued = run_info(session, run_id)
        try:
            target, credentials = prepare_alerting(
                workspace, queued.export_name, trigger=API, dry_run=queued.dry_run
            )  # nobody waits for it: a refusal is the administrators' business
        except (AccessDeniedError, ExportUserError) as exc:
            return self._refused(run_id, str(exc))
        except (ConflictError, NotFoundError) as exc:  # no connection any more...
            return self._refused(run_id, str(exc))
        with suppress(RunFailedError):  # recorded and reported: the view says why
            run_target(run_env(workspace), target, credentials, run_id,
                       progress=progress)  # fmt: skip
        return self.show(run_id)

    def _execute_pass(self, run_id: int, *, progress: RunProgress | None) -> RunView:
        """Carry out the approval or resume queued on the run, as who asked."""
        database = self._workspace.database
        with database.session() as session:
            claimed = take_queued_action(session, run_id)
        if claimed is None:  # another worker took it, or a pass answered it
            return self.show(run_id)
        action, by = claimed
        try:
            actor = resolve_actor(database, by)
            as_asker = Workspace(self._workspace.settings, database,
                                 self._workspace.engine, actor)  # fmt: skip
            step = approve_run if action == APPROVE else resume_run
            with suppress(RunFailedError):  # recorded and reported: the view says
                step(as_asker, run_id, progress=progress, audited=True)
        except RunInProgressError:
            with database.session() as session:  # the export is busy: next poll
                queue_action(session, run_id, action, by=by)
            raise
        except _NOT_NOW as exc:
            self._not_carried_out(run_id, action, by, str(exc))
        finally:  # a pass that never started leaves the run not waiting for one
            with database.session() as session:
                release_queued_action(session, run_id)
        return self.show(run_id)

    def release_abandoned_claims(self) -> list[int]:
        """Say on each run whose claimed pass never started that it did not happen.

        A worker calls this as it starts: the worker that claimed those passes
        stopped before it started them (:func:`release_abandoned_claims`).
        """
        with self._workspace.database.session() as session:
            released = release_abandoned_claims(session)
            for run_id, action in released:
                logger.warning("run %d: its claimed %s never started", run_id, action)
                _add_note(
                    get_run(session, run_id),
                    f"The {action} that was asked for did not start: the worker that"
                    " took it up stopped first. Ask for it again.",
                )
        return [run_id for run_id, _ in released]

    def _not_carried_out(self, run_id: int, action: str, by: str, why: str) -> None:
        """Say on the run that its queued pass did not happen, and why."""
        logger.warning("queued %s of run %d was not carried out", action, run_id)
        with self._workspace.database.session() as session:
            note = f"The {action} that {by} asked for was not carried out: {why}"
            _add_note(get_run(session, run_id), note)

    def _refused(self, run_id: int, reason: str) -> RunView:
        note = f"Refused: {reason} The run did not start."
        return self._end(run_id, RunStatus.FAILED_PERMANENT, note)

    def _end(self, run_id: int, status: RunStatus, error: str) -> RunView:
        logger.warning("queued run %d did not start: %s", run_id, status)
        with self._workspace.database.session() as session:
            finish(session, run_id, status, error=error, now=utc_now())
            session.flush()
            return RunView.of(run_info(session, run_id))

    # --- acting on a run -------------------------------------------------

    def resume(self, run_id: int, *, progress: RunProgress | None = None) -> RunView:
        """Continue an Interrupted or Failed (retrying) run to its end, now."""
        return RunView.of(resume_run(self._workspace, run_id, progress=progress))

    def request_resume(self, run_id: int) -> RunView:
        """Check the actor may resume the run, and queue its resume for the worker."""
        run, _, _ = resumable(self._workspace, run_id)
        return self._queue(run, RESUME)

    def request_approve(self, run_id: int) -> RunView:
        """Check the actor may approve the held removals, and queue the approval."""
        run, _, _ = approvable(self._workspace, run_id)
        return self._queue(run, APPROVE)

    def _queue(self, run: RunInfo, action: str) -> RunView:
        workspace = self._workspace
        queued = queue_pass(workspace.database, workspace.actor, run, action)
        return RunView.of(queued)

    def cancel(self, run_id: int) -> RunView:
        """Cancel a run: a Running one starts no new batch."""
        cancel_run(self._workspace, run_id)
        return self.show(run_id)

    def approve(self, run_id: int, *, progress: RunProgress | None = None) -> RunView:
        """Send the removals a Held run holds, now (administrators only)."""
        return RunView.of(approve_run(self._workspace, run_id, progress=progress))

    def discard(self, run_id: int) -> RunView:
        """Drop the removals a Held run holds (administrators only)."""
        return RunView.of(discard_run(self._workspace, run_id))

    # --- reading ---------------------------------------------------------

    def list(
        self,
        export: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RunView]:
        """One page of runs, newest first; of one export (removed ones too)."""
        infos, total = self._history.page(
            export=export, status=status, limit=limit, offset=offset
        )
        items = [RunView.of(info) for info in infos]
        return Page[RunView](items=items, total=total, limit=limit, offset=offset)

    def in_progress(self, export: str) -> RunView | None:
        """The export's run in progress (Queued or Running), if there is one."""
        info = self._history.in_progress(export)
        return None if info is None else RunView.of(info)

    def list_drift(self, export: str) -> tuple[ListDriftView, ...]:
        """Each segment's list of the export and its newest drift check."""
        return tuple(
            ListDriftView.of(segment, size)
            for segment, size in self._history.list_drift(export)
        )

    def show(self, run_id: int) -> RunView:
        """One run with its status and per-segment progress."""
        return RunView.of(self._history.show(run_id))

    def rejects(
        self, run_id: int, limit: int = 50, offset: int = 0
    ) -> Page[RejectView]:
        """One page of the run's rejects (not for viewers: they hold e-mails)."""
        rows, total = self._history.rejects_page(run_id, limit=limit, offset=offset)
        items = [RejectView.of(row) for row in rows]
        return Page[RejectView](items=items, total=total, limit=limit, offset=offset)

    def reject_rows(self, run_id: int) -> Iterator[RejectRow]:
        """Every reject of the run, streamed; checked before the first row."""
        return self._history.rejects(run_id)

    def rejects_csv(self, run_id: int) -> Iterator[str]:
        """The rejects CSV, line by line; checked before the first line."""
        return csv_lines(self.reject_rows(run_id))


def _add_note(run: Run, note: str) -> None:
    """Add ``note`` after what the run's error already says (no secret, no PII)."""
    run.error = f"{run.error} {note}" if run.error else note


def csv_lines(rows: Iterable[RejectRow]) -> Iterator[str]:
    """The rejects as CSV lines (header first); no cell a spreadsheet would run."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[object]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_COLUMNS)
    for row in rows:
        yield line(
            [_cell(row.segment_name), "" if row.batch is None else row.batch,
             _cell(row.profile_key or ""), _cell(row.identifier), row.bucket,
             _cell(row.reason), "yes" if row.retryable else "no"]
        )  # fmt: skip


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
