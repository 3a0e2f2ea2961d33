"""Run one export: plan each segment, send its batches, checkpoint, commit.

A first slice of the runner (issue 5, "A run"): :func:`run_export` checks the
actor may run the export, creates the run, takes the export's lock, and for each
segment in order picks its Iterable list (stored, adopted by exact name, or
created), plans the binding, sends every planned batch, checkpoints each
acknowledged batch with its rejects in one transaction, and commits the sync
state. The run ends Succeeded, Succeeded with rejects, or Failed (permanent);
the lock is always released.

Not in this slice: the removal brake, dry runs, cancel, resume of an
interrupted run, retrying the previous run's retryable rejects, recreating a
list deleted in Iterable, and the drift check.

No identifier (email, userId) and no key ever reaches a log line or a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from audiencesync.auth.roles import Action, check
from audiencesync.errors import AudiencesyncError, ConflictError
from audiencesync.exports.records import find_export
from audiencesync.iterable.client import IterableClient
from audiencesync.iterable.models import ListType
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Binding
from audiencesync.sync.bindings import ensure_binding, final_identifiers, set_list
from audiencesync.sync.checkpoints import (
    PlanSummary,
    add_run_segment,
    record_list,
    record_plan,
    set_segment_status,
)
from audiencesync.sync.history import run_info
from audiencesync.sync.lock import Lease, acquire, release, this_process
from audiencesync.sync.mapping import ExportMapping, Mode
from audiencesync.sync.plan import PlanSummary as PlanResult
from audiencesync.sync.plan import plan_binding
from audiencesync.sync.records import create_run, finish, get_run, start
from audiencesync.sync.sending import (
    invalid_rejects,
    send_batches,
    write_emails,
)
from audiencesync.sync.state import commit_state
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.connections.records import ExportCredentials
    from audiencesync.iterable.batching import BatchPolicy
    from audiencesync.store.database import Database
    from audiencesync.sync.history import RunInfo
    from audiencesync.workspace import Workspace

Clock = Callable[[], datetime]


class RunFailedError(AudiencesyncError):
    """Raised when a run ended Failed (permanent); the run record says why."""

    def __init__(self, run_id: int, reason: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"Run {run_id} failed: {reason} See `audiencesync runs show {run_id}`."
        )


@dataclass(frozen=True, slots=True)
class _Target:
    """What a run needs to know of its export, read once at the start."""

    export_id: int
    name: str
    mapping: ExportMapping
    segments: tuple[tuple[int, str], ...]  # (segment id, segment name), in order


def state_path(home: Path, binding_id: int) -> Path:
    """The sync state file of a binding."""
    return home / "sync" / "state" / f"{binding_id}.parquet"


def plan_folder(home: Path, run_id: int, binding_id: int) -> Path:
    """Where a run persists the plan of one binding."""
    return home / "sync" / "runs" / str(run_id) / str(binding_id)


def run_export(
    workspace: Workspace,
    name: str,
    *,
    trigger: str = "manual",
    dry_run: bool = False,
    now: Clock = utc_now,
) -> RunInfo:
    """Run export ``name`` once, to its end; return the run's record.

    A dry run plans every segment and names the list it would use, calling only
    Iterable's read endpoints: it creates no list, sends nothing, changes no sync
    state and takes no lock. Its counts are the run's ``planned_*`` figures.

    Raises RunInProgressError when another run holds the export, and
    RunFailedError (after recording the run as Failed (permanent)) when the run
    broke; the message holds no identifier and no key.
    """
    export = workspace.exports.get(name)
    if export.connection is None:
        msg = f"Export {export.name!r} has no connection; attach one before running."
        raise ConflictError(msg)
    scope = workspace.connections.scope(export.connection)
    check(workspace.actor, Action.RUN_EXPORTS, connection=scope)
    credentials = workspace.connections.api_key_for_export(export.connection)
    database = workspace.database
    with database.session() as session:
        row = find_export(session, export.name)
        target = _Target(
            export_id=row.id,
            name=row.name,
            mapping=ExportMapping(
                email_field=row.email_field,
                user_id_field=row.user_id_field,
                fields=dict(row.fields or {}),
                consent_column=row.consent_column,
                mode=cast("Mode", row.mode),
            ),
            segments=tuple(
                (link.segment.id, link.segment.name) for link in row.segment_links
            ),
        )
        run_id = create_run(
            session,
            row.id,
            trigger=trigger,
            requested_by=workspace.actor.name,
            dry_run=dry_run,
        ).id
    lease = None if dry_run else _lock(database, target.export_id, run_id, now=now)
    try:
        with database.session() as session:
            start(session, run_id, now=now())
        try:
            rejected = asyncio.run(
                _run(workspace, target, run_id, credentials, now, dry_run=dry_run)
            )
        except Exception as exc:
            reason = _safe_reason(exc)
            with database.session() as session:
                _fail_segments(session, run_id)
                finish(
                    session,
                    run_id,
                    RunStatus.FAILED_PERMANENT,
                    error=reason,
                    now=now(),
                )
            raise RunFailedError(run_id, reason) from exc
        status = RunStatus.SUCCEEDED_WITH_REJECTS if rejected else RunStatus.SUCCEEDED
        with database.session() as session:
            finish(session, run_id, status, now=now())
    finally:
        if lease is not None:
            release(database, lease)
    with database.session() as session:
        return run_info(session, run_id)


def _lock(database: Database, export_id: int, run_id: int, *, now: Clock) -> Lease:
    """The export's lease; a refused run is recorded Canceled, never started."""
    try:
        return acquire(database, export_id, run_id, holder=this_process(), now=now())
    except ConflictError as exc:
        with database.session() as session:
            finish(session, run_id, RunStatus.CANCELED, error=str(exc), now=now())
        raise


async def _run(
    workspace: Workspace,
    target: _Target,
    run_id: int,
    credentials: ExportCredentials,
    now: Clock,
    *,
    dry_run: bool,
) -> bool:
    """Sync every segment in order; True when any reject was recorded."""
    async with IterableClient(
        credentials.api_key, region=credentials.region, base_url=credentials.base_url
    ) as client:
        lists = _ListFinder(client)
        rejected = False
        for segment_id, segment_name in target.segments:
            found = await _sync_segment(
                workspace,
                target,
                run_id=run_id,
                segment=(segment_id, segment_name),
                iterable=_Iterable(client, lists),
                now=now,
                dry_run=dry_run,
            )
            rejected = rejected or found
        return rejected


@dataclass(frozen=True, slots=True)
class _Iterable:
    """The run's client and its view of the project's lists."""

    client: IterableClient
    lists: _ListFinder


class _ListFinder:
    """The project's lists, read once per run and only when a binding needs one."""

    def __init__(self, client: IterableClient) -> None:
        self._client = client
        self._by_name: dict[str, int] | None = None

    async def find(self, name: str) -> int | None:
        """The id of the standard list named exactly ``name``, if there is one."""
        if self._by_name is None:
            self._by_name = {}
            for found in await self._client.list_lists():
                if found.list_type is ListType.STANDARD:
                    self._by_name.setdefault(found.name, found.id)
        return self._by_name.get(name)

    async def find_or_create(self, name: str) -> tuple[int, str]:
        """The id of the standard list named exactly ``name``, and how it was got."""
        found = await self.find(name)
        if found is not None:
            return found, "adopted"
        list_id = await self._client.create_list(name)
        if self._by_name is not None:
            self._by_name[name] = list_id
        return list_id, "created"


async def _sync_segment(
    workspace: Workspace,
    target: _Target,
    *,
    run_id: int,
    segment: tuple[int, str],
    iterable: _Iterable,
    now: Clock,
    dry_run: bool = False,
) -> bool:
    segment_id, segment_name = segment
    client = iterable.client
    database, home = workspace.database, Path(workspace.settings.home)
    with database.session() as session:
        binding = ensure_binding(session, target.export_id, segment_id)
        part = add_run_segment(
            session, get_run(session, run_id), binding, segment_name=segment_name
        )
        set_segment_status(session, part.id, RunStatus.RUNNING)
        part_id, binding_id, list_id = part.id, binding.id, binding.list_id
        final = final_identifiers(session, binding_id)
    if dry_run:
        return await _plan_only(
            workspace, target, part_id=part_id, binding=(binding_id, list_id),
            run_id=run_id, segment_name=segment_name, iterable=iterable, final=final,
        )  # fmt: skip
    if list_id is None:
        list_id, action = await iterable.lists.find_or_create(segment_name)
    else:
        action = "existing"
    with database.session() as session:
        stored = session.get_one(Binding, binding_id)
        set_list(stored, list_id=list_id, list_name=segment_name)
        record_list(session, part_id, list_id=list_id, action=action)

    state = state_path(home, binding_id)
    out, summary = _plan(
        workspace, target, part_id=part_id, binding_id=binding_id, run_id=run_id,
        segment_name=segment_name, final=final, policy=client.batch,
    )  # fmt: skip
    outcome = await send_batches(
        database,
        client,
        list_id=list_id,
        run_id=run_id,
        run_segment_id=part_id,
        out=out,
        state=state,
        now=now,
    )
    commit_state(state, out / "plan.parquet", outcome.acked, rejected=outcome.rejected)
    rejected = outcome.any_rejects or summary.invalid > 0
    with database.session() as session:
        set_segment_status(
            session,
            part_id,
            RunStatus.SUCCEEDED_WITH_REJECTS if rejected else RunStatus.SUCCEEDED,
        )
    return rejected


def _plan(
    workspace: Workspace,
    target: _Target,
    *,
    part_id: int,
    binding_id: int,
    run_id: int,
    segment_name: str,
    final: Collection[str],
    policy: BatchPolicy,
) -> tuple[Path, PlanResult]:
    """Plan one binding into the run's folder and record the plan."""
    database, home = workspace.database, Path(workspace.settings.home)
    out = plan_folder(home, run_id, binding_id)
    out.mkdir(parents=True, exist_ok=True)
    final_file = write_emails(out / "final.parquet", final) if final else None
    members = workspace.segments.evaluate(segment_name, columns=target.mapping.columns)
    summary = plan_binding(
        members,
        mapping=target.mapping,
        state=state_path(home, binding_id),
        out=out,
        final=final_file,
        policy=policy,
    )
    with database.session() as session:
        record_plan(
            session,
            part_id,
            PlanSummary(
                add=summary.to_add,
                update=summary.to_update,
                remove=summary.to_remove,
                unchanged=summary.unchanged,
                invalid_in_source=summary.invalid,
                not_consenting=summary.not_consenting,
                batches=summary.subscribe_batches + summary.unsubscribe_batches,
            ),
            plan_path=str(out),
        )
        invalid_rejects(session, part_id, out)
    return out, summary


async def _plan_only(
    workspace: Workspace,
    target: _Target,
    *,
    part_id: int,
    binding: tuple[int, int | None],
    run_id: int,
    segment_name: str,
    iterable: _Iterable,
    final: Collection[str],
) -> bool:
    """A dry run's segment: the list it would use and the plan, nothing sent."""
    binding_id, list_id = binding
    action = "existing"
    if list_id is None:
        list_id = await iterable.lists.find(segment_name)
        action = "adopted" if list_id is not None else "created"
    with workspace.database.session() as session:
        record_list(session, part_id, list_id=list_id, action=action)
    _out, summary = _plan(
        workspace, target, part_id=part_id, binding_id=binding_id, run_id=run_id,
        segment_name=segment_name, final=final, policy=iterable.client.batch,
    )  # fmt: skip
    with workspace.database.session() as session:
        set_segment_status(session, part_id, RunStatus.SUCCEEDED)
    return bool(summary.invalid > 0)


def _fail_segments(session: Session, run_id: int) -> None:
    for part in get_run(session, run_id).segments:
        if RunStatus.from_code(part.status) in {RunStatus.QUEUED, RunStatus.RUNNING}:
            set_segment_status(session, part.id, RunStatus.FAILED_PERMANENT)


def _safe_reason(exc: BaseException) -> str:
    """Why the run broke, in words that hold no identifier and no key.

    Our own errors are written without identifiers or secrets; anything else
    is named by its type only, since its text may quote a profile value.
    """
    if isinstance(exc, AudiencesyncError):
        return str(exc)
    return f"an unexpected {type(exc).__name__} stopped it."
