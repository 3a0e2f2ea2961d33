"""The run worker: executes the runs the API queued, in the ``serve`` process.

:meth:`RunWorker.poll_once` looks at the Queued runs (oldest first) and
executes at most one per export, each as the user who requested it
(:meth:`~audiencesync.app.runs.RunService.execute_queued`). Exports run one
after another, in the worker's own thread: one export's run never shares a
profile engine or a thread with the scheduler, and a long run only delays the
other exports' queued runs (the design's one-machine budget; several
``serve`` processes on one PostgreSQL database share the queue, and the export
lock keeps one run per export across them).

A run whose export another run holds (a command-line run, another process)
stays Queued and is tried again at the next poll. One run's error is logged in
one line (our own message, or only the exception's type, whose text could quote
data) and the worker goes on; it never dies of one run.

:meth:`RunWorker.start` polls in a background thread every
:data:`POLL_SECONDS` until :meth:`RunWorker.stop`, which waits for the run in
progress to end (a run is not cut off half way; ``serve`` stops on Ctrl-C,
and an interrupted run is resumed by the next run of its export).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from audiencesync.auth.roles import Actor, Role
from audiencesync.errors import AudiencesyncError
from audiencesync.sync.lock import RunInProgressError

if TYPE_CHECKING:
    from audiencesync.app.context import AppContext
    from audiencesync.app.runs import RunService
    from audiencesync.app.views.runs import RunView

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
WORKER = Actor("worker", Role.ADMIN)
"""Who reads the queue. Runs are executed as the users who requested them."""


class RunWorker:
    """Executes queued runs, one per export at a time."""

    def __init__(
        self, context: AppContext, *, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._context = context
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> list[RunView]:
        """Execute what waits now (one run per export); the runs that ended."""
        with self._context.workspace(WORKER) as workspace:
            waiting = workspace.runs.waiting()
            ended: list[RunView] = []
            exports: set[str] = set()
            for run_id in waiting:
                if self._stop.is_set():
                    break
                export = workspace.runs.show(run_id).export
                if export in exports:
                    continue  # the export's older queued run went first
                exports.add(export)
                view = self._execute(workspace.runs, run_id)
                if view is not None:
                    ended.append(view)
            return ended

    def start(self) -> None:
        """Poll in a background thread until :meth:`stop`.

        First, the passes an earlier worker claimed and never started are taken
        off their runs, with a note saying so (they may be asked for again).
        """
        if self._thread is not None:
            return
        with self._context.workspace(WORKER) as workspace:
            workspace.runs.release_abandoned_claims()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name="audiencesync-run-worker", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop polling; wait (up to ``timeout`` seconds) for the run in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def is_running(self) -> bool:
        """Whether the background thread is polling."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except AudiencesyncError as exc:
                logger.error("run worker pass failed: %s", exc)  # noqa: TRY400 - no trace
            except Exception as exc:  # the worker must outlive one bad pass
                logger.error("run worker pass failed: %s", type(exc).__name__)  # noqa: TRY400 - a trace could show data
            self._stop.wait(self._poll_seconds)

    @staticmethod
    def _execute(runs: RunService, run_id: int) -> RunView | None:
        try:
            view = runs.execute_queued(run_id)
        except RunInProgressError:
            logger.info("queued run %d waits: its export is running", run_id)
            return None
        except AudiencesyncError as exc:
            logger.error("queued run %d could not run: %s", run_id, exc)  # noqa: TRY400 - no trace
            return None
        except Exception as exc:  # one run must not stop the others
            logger.error(  # noqa: TRY400 - a trace could show data
                "queued run %d failed: unexpected %s", run_id, type(exc).__name__
            )
            return None
        logger.info("queued run %d of export %r: %s", view.id, view.export, view.status)
        return view
