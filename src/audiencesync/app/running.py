"""Running exports as a workspace's actor: the checks, then the sync engine.

These functions are what :class:`audiencesync.app.runs.RunService` calls (and
tests, which read the engine's :class:`~audiencesync.sync.history.RunInfo`
records). Each checks that the actor may run the export and finds its
credentials, hands the engine a :class:`~audiencesync.sync.environment.RunEnv`
built from the workspace, and sends the alerts and failure notices the engine
reports (:mod:`audiencesync.app.alerts`, :mod:`audiencesync.app.notifications`):

- a run that moved its export into a state needing the administrators (Held,
  drifted, everyone rejected), once, when it enters it;
- a run that ended Failed (permanent);
- a refused run: the connection's export user may no longer run the export,
  or an unattended run (scheduled, refresh, queued) was refused by the sharing
  rules. A person refused at the command line or by the API is told there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from audiencesync.app.alerts import notify_refused_run, notify_run_state
from audiencesync.app.notifications import notify_failed_run
from audiencesync.auth.roles import Action, check
from audiencesync.errors import (
    AccessDeniedError,
    ConfigError,
    ConflictError,
    ExportUserError,
)
from audiencesync.store.models import utc_now
from audiencesync.sync import control
from audiencesync.sync.environment import RunEnv
from audiencesync.sync.runner import (
    NewRun,
    connection_of,
    load_target,
    resume,
    run_target,
    stopped_run,
)

if TYPE_CHECKING:
    from audiencesync.app.workspace import Workspace
    from audiencesync.connections.records import ExportCredentials
    from audiencesync.settings import Settings
    from audiencesync.sync.history import RunInfo
    from audiencesync.sync.progress import RunProgress
    from audiencesync.sync.segment_pass import Target
    from audiencesync.sync.statuses import RunStatus

Clock = Callable[[], datetime]
MANUAL = "manual"
UNATTENDED = "unattended"  # the refusal-alert rule of a run nobody waits for


def run_env(workspace: Workspace) -> RunEnv:
    """What the engine needs of the workspace, and where it reports."""
    settings = workspace.settings
    return RunEnv(
        database=workspace.database,
        home=run_files_folder(settings),
        segments=workspace.segments,
        retention_days=settings.retention_days,
        segments_at_once=settings.segments_at_once,
        project_peers=lambda connection_id: _peers(workspace, connection_id),
        report=lambda info: report_run(workspace, info),
    )


def run_files_folder(settings: Settings) -> Path:
    """Where runs keep their files, made if missing; ConfigError if it cannot be."""
    root = Path(settings.run_files)
    try:
        (root / "sync").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        setting = "AUDIENCESYNC_RUN_DATA" if settings.run_data else "AUDIENCESYNC_HOME"
        msg = (
            f"{setting} ({root}) is not a folder audiencesync can keep run files in"
            f" ({exc.strerror or type(exc).__name__}). Point it at a writable folder."
        )
        raise ConfigError(msg, code="run_files_unusable") from None
    return root


def _peers(workspace: Workspace, connection_id: int) -> frozenset[int]:
    """Read when needed: the connections (and their key ring) load lazily."""
    return workspace.connections.project_peers(connection_id)


def report_run(workspace: Workspace, info: RunInfo) -> None:
    """Alert the administrators of the state a pass left, and of a failure."""
    notify_run_state(workspace, info)  # dry runs change no state
    notify_failed_run(workspace, info)  # only Failed (permanent) runs


def prepare(workspace: Workspace, name: str) -> tuple[Target, ExportCredentials]:
    """The export as a run target, after checking the actor may run it."""
    name, connection_name = connection_of(workspace.database, name)
    scope = workspace.connections.scope(connection_name)
    check(workspace.actor, Action.RUN_EXPORTS, connection=scope)
    credentials = workspace.connections.api_key_for_export(connection_name)
    return load_target(workspace.database, name), credentials


def prepare_alerting(
    workspace: Workspace, name: str, *, trigger: str, dry_run: bool
) -> tuple[Target, ExportCredentials]:
    """:func:`prepare`, alerting the administrators of a refusal that is theirs."""
    try:
        return prepare(workspace, name)
    except (AccessDeniedError, ExportUserError) as exc:
        if alerts_on_refusal(exc, trigger=trigger, dry_run=dry_run):
            notify_refused_run(workspace, name, str(exc))
        raise


def alerts_on_refusal(exc: Exception, *, trigger: str, dry_run: bool) -> bool:
    """Whether a refused run is the administrators' business.

    A connection whose export user is no longer authorised stops every run of
    its exports; an unattended (scheduled, refresh, queued) run refused by the
    sharing rules needs an administrator too. A person refused at the command
    line (or by the API, at once) is told there, and a refusal they cause is no
    event.
    """
    if dry_run:
        return False
    return isinstance(exc, ExportUserError) or trigger != MANUAL


def run_export(
    workspace: Workspace,
    name: str,
    *,
    trigger: str = MANUAL,
    dry_run: bool = False,
    full_resync: bool = False,
    now: Clock = utc_now,
    progress: RunProgress | None = None,
) -> RunInfo:
    """Run export ``name`` to its end (continuing a stopped run first).

    See :func:`audiencesync.sync.runner.run_target`. Raises RunInProgressError
    when another run holds the export, and RunFailedError when the run ended
    Failed (permanent).
    """
    target, credentials = prepare_alerting(
        workspace, name, trigger=trigger, dry_run=dry_run
    )
    request = NewRun(trigger, workspace.actor.name, dry_run, full_resync)
    return run_target(run_env(workspace), target, credentials, request,
                      now=now, progress=progress)  # fmt: skip


def resume_run(
    workspace: Workspace,
    run_id: int,
    *,
    now: Clock = utc_now,
    progress: RunProgress | None = None,
    audited: bool = False,
) -> RunInfo:
    """Continue an Interrupted or Failed (retrying) run from its persisted plans.

    ``audited``: the resume's audit event was written when it was queued.
    """
    run, target, credentials = resumable(workspace, run_id, now=now)
    if not audited:
        control.record(workspace.database, workspace.actor, "run.resume", run)
    return resume(run_env(workspace), target, credentials, run_id, now=now,
                  progress=progress)  # fmt: skip


def resumable(
    workspace: Workspace, run_id: int, *, now: Clock = utc_now
) -> tuple[RunInfo, Target, ExportCredentials]:
    """The stopped run, if the actor may resume it (ConflictError if not stopped)."""
    run = stopped_run(workspace.database, run_id, now=now)
    target, credentials = prepare(workspace, run.export_name)
    if not run.status.is_resumable:
        msg = (
            f"Run {run_id} is {run.status}; only Interrupted and Failed (retrying)"
            " runs can be resumed."
        )
        raise ConflictError(msg, details={"run_id": run_id})
    return run, target, credentials


def cancel_run(workspace: Workspace, run_id: int, *, now: Clock = utc_now) -> RunStatus:
    """Cancel a run; Running until its batches in flight end, else Canceled now."""
    run = stopped_run(workspace.database, run_id, now=now)
    prepare(workspace, run.export_name)  # may the actor run (so stop) it?
    return control.cancel_run(workspace.database, workspace.actor, run, now=now)


def approve_run(
    workspace: Workspace,
    run_id: int,
    *,
    now: Clock = utc_now,
    progress: RunProgress | None = None,
    audited: bool = False,
) -> RunInfo:
    """Send the held removals of a Held run (administrators only).

    ``audited``: the approval's audit event was written when it was queued.
    """
    run, target, credentials = approvable(workspace, run_id)
    return control.approve_run(run_env(workspace), workspace.actor, run, target,
                               credentials, now=now, progress=progress,
                               audited=audited)  # fmt: skip


def approvable(
    workspace: Workspace, run_id: int
) -> tuple[RunInfo, Target, ExportCredentials]:
    """The Held run, if the actor may approve its removals (and run its export)."""
    check(workspace.actor, Action.APPROVE_REMOVALS)
    run = control.held_run(workspace.database, run_id)
    target, credentials = prepare(workspace, run.export_name)
    return run, target, credentials


def discard_run(workspace: Workspace, run_id: int, *, now: Clock = utc_now) -> RunInfo:
    """End a Held run without its removals (administrators only)."""
    return control.discard_run(workspace.database, workspace.actor, run_id, now=now)
