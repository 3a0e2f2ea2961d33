"""The scheduler: the system refresh on its cron, each cron export on its own.

:class:`Scheduler` wakes, fires what is due, and sleeps until the next slot or
the end of an export's lease, whichever comes first (at most :data:`MAX_WAIT`
seconds, so a schedule saved meanwhile is picked up). A lease that ends without
renewal means its holder died (another ``serve`` instance, another machine): the
pass then resumes its run, not up to a minute later.
Which schedules it follows:

- the system refresh (:mod:`audiencesync.scheduling.refresh`), when a schedule is set;
- a refresh someone requested (``POST /refresh``): claimed at the next pass and
  run once, as the user who asked;
- every active export with its own cron schedule (trigger ``scheduled``).
  "with each refresh" exports run inside the refresh, ``manual`` ones never;
- stopped runs (see :mod:`audiencesync.sync.retries`): Interrupted ones are
  resumed at once, Failed (retrying) ones every few minutes, until they give up.

Each schedule's last fire time is a :class:`SystemSetting` (``last_fire:refresh``,
``last_fire:export:<id>``). A schedule is due when a slot of its cron lies after
the later of its last fire and the moment it was saved, and not after now; the
fire then records *now*, so a scheduler that was down across five slots fires
once, not five times. Recording is a compare-and-set on the mark's timestamp:
of several ``serve`` processes on one PostgreSQL database, one fires a slot.

Scheduled work acts as the default user (``init``'s administrator), whatever
``AUDIENCESYNC_USER`` says. A run refused because another run holds the export's
lock is logged and skipped. Any other error of one export, one resume or the
refresh is logged in one line (our own message, or only the exception's type,
whose text could quote data) and the pass goes on to the next. The clock
(``now``) and the wait are injected, so tests run days of schedule in virtual
time. Log lines name exports and runs only, never a profile value, an address
or a key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from audiencesync.app.notifications import notify_failed_run
from audiencesync.app.refresh_schedule import claim_refresh_request
from audiencesync.app.workspace import open_workspace
from audiencesync.auth.directory import resolve_actor
from audiencesync.errors import AudiencesyncError
from audiencesync.scheduling.refresh import run_refresh
from audiencesync.scheduling.schedules import (
    MANUAL,
    REFRESH,
    REFRESH_SETTING,
    next_cron_time,
)
from audiencesync.store.accounts import SystemSetting
from audiencesync.store.destinations import Export
from audiencesync.store.models import utc_now
from audiencesync.store.runs import ExportLock
from audiencesync.sync.history import run_info
from audiencesync.sync.lock import RunInProgressError
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.retention import tidy_run_files
from audiencesync.sync.retries import Stopped, give_up, runs_to_resume

if TYPE_CHECKING:
    from sqlalchemy import CursorResult
    from sqlalchemy.orm import Session

    from audiencesync.app.workspace import Workspace
    from audiencesync.settings import Settings
    from audiencesync.store.database import Database

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Wait = Callable[[float], bool]
"""Wait up to that many seconds; True when the scheduler should stop."""

MAX_WAIT = 60.0
MIN_WAIT = 0.5  # never spin when a slot is due right now
SCHEDULED = "scheduled"  # the run trigger of an export's own cron schedule
REFRESH_KEY = "last_fire:refresh"
REQUESTED_KEY = "requested:refresh"  # a Firing's key for a requested refresh
SKIPPED = "skipped"
FAILED = "failed"


def export_key(export_id: int) -> str:
    """The :class:`SystemSetting` key holding an export's last fire time."""
    return f"last_fire:export:{export_id}"


@dataclass(frozen=True, slots=True)
class Plan:
    """One schedule the scheduler follows."""

    key: str
    name: str  # the export's name, or "refresh"
    cron: str
    timezone: str
    saved_at: datetime
    is_refresh: bool = False


@dataclass(frozen=True, slots=True)
class Firing:
    """One schedule fired: which, for which slot, when, and how it ended."""

    key: str
    name: str
    due_at: datetime
    fired_at: datetime
    outcome: str  # a run status, "refresh ok", "refresh with problems", ...


@dataclass(frozen=True, slots=True)
class _Due:
    plan: Plan
    due_at: datetime
    seen: datetime | None  # the mark's timestamp read, for compare-and-set


class Scheduler:
    """Fires due schedules; :meth:`run` loops until :attr:`stop` is set."""

    def __init__(
        self,
        settings: Settings,
        *,
        now: Clock = utc_now,
        wait: Wait | None = None,
        stop: threading.Event | None = None,
        max_wait: float = MAX_WAIT,
        wake: threading.Event | None = None,
    ) -> None:
        self.settings = settings.model_copy(update={"user": None})
        self.stop = stop or threading.Event()
        self._now = now
        self._wake = wake
        self._wait = wait or self._sleep
        self._max_wait = max_wait

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``, or less when woken (a refresh request); True if stopped."""
        if self._wake is None:
            return self.stop.wait(seconds)
        self._wake.wait(seconds)
        self._wake.clear()
        return self.stop.is_set()

    def run(self) -> None:
        """Tick, then wait for the next slot, until stopped."""
        logger.info("scheduler started")
        while not self.stop.is_set():
            upcoming = self._safe_tick()
            if self._wait(self._seconds_until(upcoming)):
                break
        logger.info("scheduler stopped")

    def tick(self) -> list[Firing]:
        """Fire every schedule that is due now; return what fired."""
        return self._tick()[0]

    def next_due(self) -> datetime | None:
        """The next slot of any schedule, or an export lease's end (else None)."""
        with open_workspace(self.settings) as workspace:
            return _next_slot(workspace.database, now=self._now())

    def _safe_tick(self) -> datetime | None:
        try:
            return self._tick()[1]
        except AudiencesyncError as exc:
            logger.error("scheduler pass failed: %s", exc)  # noqa: TRY400 - no trace
        except Exception as exc:  # the loop must outlive one bad pass
            logger.error("scheduler pass failed: %s", type(exc).__name__)  # noqa: TRY400 - a trace could show data
        return None

    def _tick(self) -> tuple[list[Firing], datetime | None]:
        with open_workspace(self.settings) as workspace:
            database = workspace.database
            firings = [
                self._fire(workspace, due)
                for due in _due(database, now=self._now())
                if _claim(database, due, now=self._now())  # one by one, in order
            ]
            firings += self._requested_refresh(workspace)
            firings += self._continue_stopped(workspace)
            settings = workspace.settings
            tidy_run_files(database, Path(settings.run_files), now=self._now(),
                           retention_days=settings.retention_days)  # fmt: skip
            return firings, _next_slot(database, now=self._now())

    def _requested_refresh(self, workspace: Workspace) -> list[Firing]:
        """Run the refresh someone requested, once, as them (if they still may)."""
        request = claim_refresh_request(workspace.database)
        if request is None:
            return []
        started = self._now()
        try:
            asker = resolve_actor(workspace.database, request.requested_by)
        except AudiencesyncError as exc:  # removed since they asked
            logger.error("requested refresh could not run: %s", exc)  # noqa: TRY400 - no trace
            outcome = FAILED
        else:
            logger.info("refresh requested by %s starts", asker.name)
            outcome = _refresh(dataclasses.replace(workspace, actor=asker))
        firing = Firing(REQUESTED_KEY, REFRESH, request.requested_at, started, outcome)
        return [firing]

    def _continue_stopped(self, workspace: Workspace) -> list[Firing]:
        """Resume Interrupted and Failed (retrying) runs; give up on old ones."""
        now = self._now()
        with workspace.database.session() as session:
            gave_up = give_up(session, now=now)
            due = runs_to_resume(session, now=now)
        for run_id in gave_up:
            logger.error("run %d gave up after repeated failures", run_id)
            with workspace.database.session() as session:
                info = run_info(session, run_id)
            notify_failed_run(workspace, info)
        firings = []
        for stopped in due:
            outcome = _resume(workspace, stopped)
            key = f"resume:{stopped.run_id}"
            firings.append(Firing(key, stopped.export, now, self._now(), outcome))
        return firings

    def _fire(self, workspace: Workspace, due: _Due) -> Firing:
        started = self._now()
        plan = due.plan
        outcome = _refresh(workspace) if plan.is_refresh else _run(workspace, plan)
        return Firing(plan.key, plan.name, due.due_at, started, outcome)

    def _seconds_until(self, upcoming: datetime | None) -> float:
        if upcoming is None:
            return self._max_wait
        seconds = (upcoming - self._now()).total_seconds()
        return min(self._max_wait, max(MIN_WAIT, seconds))


def serve_forever(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    on_start: Callable[[], None] | None = None,
) -> None:
    """Run the scheduler until ``stop`` is set, Ctrl-C, or SIGTERM.

    In the main thread, SIGINT and SIGTERM set the stop event (the work in
    progress ends first); elsewhere only ``stop`` does. ``on_start`` is called
    once the signals are handled, before the first pass.
    """
    scheduler = Scheduler(settings, stop=stop)
    with _stopping_on_signals(scheduler.stop):
        if on_start is not None:
            on_start()
        scheduler.run()


@contextlib.contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {
        sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- what is due -----------------------------------------------------------------


def _plans(session: Session) -> list[Plan]:
    plans = []
    setting = session.get(SystemSetting, REFRESH_SETTING)
    if setting is not None and isinstance(setting.value, dict):
        cron, zone = setting.value.get("cron"), setting.value.get("timezone") or "UTC"
        if isinstance(cron, str) and isinstance(zone, str):
            plans.append(
                Plan(REFRESH_KEY, REFRESH, cron, zone, setting.updated_at, True)
            )
    rows = session.execute(
        select(
            Export.id, Export.name, Export.schedule, Export.timezone, Export.updated_at
        )
        .where(Export.connection_id.is_not(None))
        .where(Export.schedule.not_in((REFRESH, MANUAL)))
        .order_by(Export.name_key)
    )
    plans.extend(
        Plan(export_key(row.id), row.name, row.schedule, row.timezone, row.updated_at)
        for row in rows
    )
    return plans


def _marks(session: Session) -> dict[str, datetime]:
    rows = session.scalars(
        select(SystemSetting).where(SystemSetting.key.startswith("last_fire:"))
    )
    return {row.key: row.updated_at for row in rows}


def _slot(plan: Plan, marks: dict[str, datetime]) -> datetime | None:
    """The first slot after the later of the last fire and the save; None if bad."""
    last = marks.get(plan.key)
    since = plan.saved_at if last is None else max(last, plan.saved_at)
    try:
        return next_cron_time(plan.cron, plan.timezone, after=since)
    except (ValueError, KeyError, AudiencesyncError):
        logger.warning("schedule %s of %r is not valid; skipped", plan.cron, plan.name)
        return None


def _due(database: Database, *, now: datetime) -> list[_Due]:
    with database.session() as session:
        marks = _marks(session)
        found = []
        for plan in _plans(session):
            slot = _slot(plan, marks)
            if slot is not None and slot <= now:
                found.append(_Due(plan, slot, marks.get(plan.key)))
        return found


def _next_slot(database: Database, *, now: datetime) -> datetime | None:
    """The next slot, or the end of a lease held now (its run resumed then if dead)."""
    with database.session() as session:
        marks = _marks(session)
        slots = [_slot(plan, marks) for plan in _plans(session)]
        leases = session.scalars(
            select(ExportLock.expires_at).where(ExportLock.expires_at > now)
        ).all()
    upcoming = [slot for slot in slots if slot is not None] + list(leases)
    return max(min(upcoming), now) if upcoming else None


def _claim(database: Database, due: _Due, *, now: datetime) -> bool:
    """Record ``now`` as the fire time, unless another scheduler got there first."""
    value = {"fired_at": now.isoformat(), "slot": due.due_at.isoformat()}
    try:
        with database.session() as session:
            if due.seen is None:
                session.add(
                    SystemSetting(key=due.plan.key, value=value, updated_at=now)
                )
                session.flush()
                return True
            result = session.execute(
                update(SystemSetting)
                .where(SystemSetting.key == due.plan.key)
                .where(SystemSetting.updated_at == due.seen)
                .values(value=value, updated_at=now)
            )
            return cast("CursorResult[Any]", result).rowcount == 1
    except IntegrityError:
        return False


# --- firing ----------------------------------------------------------------------


def _refresh(workspace: Workspace) -> str:
    logger.info("scheduled refresh starts")
    try:
        report = run_refresh(workspace)
    except AudiencesyncError as exc:
        logger.error("scheduled refresh could not run: %s", exc)  # noqa: TRY400 - no trace
        return FAILED
    except Exception as exc:  # the other schedules must still fire
        _unexpected("scheduled refresh", exc)
        return FAILED
    return "refresh ok" if report.ok else "refresh with problems"


def _resume(workspace: Workspace, stopped: Stopped) -> str:
    logger.info("run %d of export %r is resumed", stopped.run_id, stopped.export)
    try:
        run = workspace.runs.resume(stopped.run_id)
    except RunInProgressError:
        return SKIPPED
    except RunFailedError:
        logger.error("resumed run %d failed", stopped.run_id)  # noqa: TRY400 - no trace
        return FAILED
    except AudiencesyncError as exc:
        logger.error("run %d could not resume: %s", stopped.run_id, exc)  # noqa: TRY400 - no trace
        return FAILED
    except Exception as exc:  # the other schedules must still fire
        _unexpected(f"resume of run {stopped.run_id}", exc)
        return FAILED
    logger.info("resumed run %d: %s", run.id, run.status)
    return run.status


def _run(workspace: Workspace, plan: Plan) -> str:
    logger.info("scheduled run of export %r starts", plan.name)
    try:
        run = workspace.runs.run(plan.name, trigger=SCHEDULED)
    except RunInProgressError as exc:
        logger.warning(
            "scheduled run of export %r skipped: run %d holds its lock",
            plan.name,
            exc.run_id,
        )
        return SKIPPED
    except RunFailedError as exc:
        logger.error("scheduled run %d of export %r failed", exc.run_id, plan.name)  # noqa: TRY400 - no trace
        return FAILED
    except AudiencesyncError as exc:
        logger.error("scheduled run of export %r could not start: %s", plan.name, exc)  # noqa: TRY400 - no trace
        return FAILED
    except Exception as exc:  # the other schedules must still fire
        _unexpected(f"scheduled run of export {plan.name!r}", exc)
        return FAILED
    logger.info("scheduled run %d of export %r: %s", run.id, plan.name, run.status)
    return run.status


def _unexpected(what: str, exc: Exception) -> None:
    """Log one line for an unexpected error: its type only (its text may hold data)."""
    logger.error("%s failed: unexpected %s", what, type(exc).__name__)
