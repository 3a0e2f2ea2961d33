"""One segment's part of a run: its list, its plan, the brake, the sends, the commit.

:func:`sync_segment` is safe to call again on a part that stopped half way (a
resumed run): a part already over is left alone, a persisted plan is reused and
only its unacknowledged batches are sent. Its steps:

1. the list: the stored one if Iterable still has it; else, for a new binding,
   the list named exactly like the segment (adopted) or a new one. One list is
   fed by one binding (:mod:`audiencesync.sync.owners`): a list another binding
   feeds is never adopted, two lists with the segment's name are never picked
   from; either fails this segment only, with the fix. A stored list
   that Iterable no longer has is recreated, the sync state dropped (nobody is on
   a new list) and the segment planned again: a full resend;
2. the plan (evaluate, diff with the sync state; a full resync re-sends every
   member), persisted before any send, with the removal brake decided once,
   when the plan is made (removals an earlier Held run still holds stay held:
   :mod:`audiencesync.sync.holds`); a sync state that does not prove it is this
   binding's for this list is ignored (see :mod:`audiencesync.sync.state_trust`):
   a full send;
3. the sends, checkpointed batch by batch; held removals are not sent;
4. the commit of the sync state from the acknowledged batches, which also runs
   when the pass stops early (cancel, failure), so nothing acknowledged is sent
   twice by the next run;
5. the drift check: the list's size read back, at most a few per run; beyond
   the export's drift threshold the segment ends Succeeded with drift.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from audiencesync.core.parquet_facts import parquet_rows
from audiencesync.errors import EvaluationError, ListGoneError
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.profiles.duckdb_engine import DuckDBRelation
from audiencesync.store.runs import Binding, RunBatch, RunReject, RunSegment
from audiencesync.sync.bindings import ensure_binding, final_identifiers, set_list
from audiencesync.sync.checkpoints import PlanSummary as CountedPlan
from audiencesync.sync.checkpoints import (
    add_run_segment,
    record_list,
    record_plan,
    set_segment_status,
)
from audiencesync.sync.holds import held_earlier
from audiencesync.sync.interrupt import CtrlC
from audiencesync.sync.lane import DuckDBLane
from audiencesync.sync.outcomes import RunCanceledError, SegmentOutcome
from audiencesync.sync.owners import ListClaimError, check_claim, refused
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE, PlanSummary, plan_binding
from audiencesync.sync.plan_memo import (
    applied,
    forget,
    is_empty,
    memo_folder,
    plan_key,
    recall,
    remember,
)
from audiencesync.sync.records import get_run, is_cancel_requested
from audiencesync.sync.reject_files import keep_invalid
from audiencesync.sync.sending import (
    ALL_ACTIONS,
    REJECTED_FILE,
    PartRef,
    send_batches,
    write_emails,
    write_rejected,
)
from audiencesync.sync.spark_plan import SparkMembers, unpushable
from audiencesync.sync.state import (
    StateIdentity,
    adopt_state,
    commit_state,
    expected_members,
    prepare_state,
    remove_state,
)
from audiencesync.sync.state_trust import state_owner, trusted_state
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.iterable.client import IterableClient
    from audiencesync.sync.batches import Action, EncodedBatch
    from audiencesync.sync.drift import DriftCheck
    from audiencesync.sync.environment import RunEnv
    from audiencesync.sync.lists import ListFinder
    from audiencesync.sync.mapping import ExportMapping
    from audiencesync.sync.progress import RunProgress

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PREPARED_FILE = "state.prepared.parquet"
_PASSABLE = {
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.INTERRUPTED,
    RunStatus.FAILED_RETRYING,
}


@dataclass(frozen=True, slots=True)
class Target:
    """What a run needs to know of its export, read once at the start."""

    export_id: int
    connection_id: int
    name: str
    mapping: ExportMapping
    removal_brake: int
    segments: tuple[tuple[int, str], ...]  # (segment id, segment name), in order
    drift_threshold: int = 5  # percent of the expected list size


@dataclass(frozen=True, slots=True)
class PassContext:
    """Everything a segment's pass shares with the rest of its run."""

    env: RunEnv
    target: Target
    run_id: int
    now: Clock
    client: IterableClient
    lists: ListFinder
    progress: RunProgress
    drift: DriftCheck
    beat: Callable[[], None]  # keeps the run's lease; raises when it was lost
    lane: DuckDBLane  # plans (when ``together``) and sync states, one at a time
    dry_run: bool = False
    together: bool = False  # segments are in progress at once: plans go in the lane
    ctrl_c: CtrlC = field(default_factory=CtrlC)  # sends are graceful under Ctrl-C


@dataclass(slots=True)
class Part:
    id: int
    binding_id: int
    name: str
    list_id: int | None
    status: RunStatus
    plan_path: str | None
    held: bool
    list_action: str | None
    state_key: str
    approved: bool = False  # an administrator approved its held removals
    fresh: Fresh | None = None  # the plan made in this pass, when it can be memoised


@dataclass(frozen=True, slots=True)
class Fresh:
    """A plan made in this pass: what it was made of, for its memo once applied."""

    members: str  # the members' fingerprint when it was made
    final: frozenset[str]
    summary: PlanSummary


def state_path(home: Path, binding_id: int) -> Path:
    """The sync state file of a binding."""
    return home / "sync" / "state" / f"{binding_id}.parquet"


def plan_folder(home: Path, run_id: int, binding_id: int) -> Path:
    """Where a run persists the plan of one binding."""
    return home / "sync" / "runs" / str(run_id) / str(binding_id)


async def sync_segment(
    ctx: PassContext, segment: tuple[int, str], *, approve: bool = False
) -> SegmentOutcome:
    """Take one segment of the run as far as it can go; what it left."""
    part = open_part(ctx, segment)
    if (part.status is RunStatus.HELD and approve) or (
        part.approved and part.status in _PASSABLE
    ):
        set_status(ctx, part.id, RunStatus.RUNNING)
        part.held = False
    elif part.status is RunStatus.FAILED_PERMANENT:
        return SegmentOutcome(failed=f"Segment {part.name!r} failed in this run.")
    elif part.status not in _PASSABLE:
        return _outcome(ctx, part.id, held=part.status is RunStatus.HELD)
    elif part.status is not RunStatus.RUNNING:
        set_status(ctx, part.id, RunStatus.RUNNING)
    try:
        list_id = await _choose_list(ctx, part)
    except ListClaimError as exc:
        return refused(ctx, part, exc)
    try:
        out = await _planned(ctx, part)
    except EvaluationError as exc:
        return unevaluable(ctx, part, exc)
    try:
        await _send(ctx, part, list_id, out)
    except ListGoneError:
        list_id = await _recreate(ctx, part)
        out = await _planned(ctx, part)
        await _send(ctx, part, list_id, out)
    held, drifted = part.held, False
    if not held:
        size = await ctx.drift.check(part.id, list_id, _state(ctx, part))
        drifted = size.is_beyond(ctx.target.drift_threshold)
    outcome = _outcome(ctx, part.id, held=held, drifted=drifted)
    if held:
        final = RunStatus.HELD
    elif drifted:
        final = RunStatus.DRIFTED
    elif outcome.rejected:
        final = RunStatus.SUCCEEDED_WITH_REJECTS
    else:
        final = RunStatus.SUCCEEDED
    set_status(ctx, part.id, final)
    ctx.progress.segment_finished(part.name)
    return outcome


def unevaluable(ctx: PassContext, part: Part, exc: EvaluationError) -> SegmentOutcome:
    """End a part whose segment the engine could not evaluate: Failed (permanent).

    Nothing was sent for it; the run's other segments go on.
    """
    set_status(ctx, part.id, RunStatus.FAILED_PERMANENT)
    ctx.progress.segment_finished(part.name)
    return SegmentOutcome(failed=f"Segment {part.name!r} was not synced: {exc}")


def open_part(ctx: PassContext, segment: tuple[int, str]) -> Part:
    """The run's part for the segment, made on the run's first pass."""
    segment_id, name = segment
    with ctx.env.database.session() as session:
        binding = ensure_binding(session, ctx.target.export_id, segment_id)
        run = get_run(session, ctx.run_id)
        row = next((p for p in run.segments if p.binding_id == binding.id), None)
        if row is None:
            row = add_run_segment(session, run, binding, segment_name=name)
        return Part(
            id=row.id,
            binding_id=binding.id,
            name=row.segment_name,
            list_id=binding.list_id,
            status=RunStatus.from_code(row.status),
            plan_path=row.plan_path,
            held=row.held_removals,
            list_action=row.list_action,
            state_key=binding.state_key,
            approved=row.removals_approved,
        )


async def _choose_list(ctx: PassContext, part: Part) -> int:
    """The list the segment goes to: stored, adopted, created or recreated."""
    if part.list_id is not None:
        check_claim(ctx, part, part.list_id)
        if not await ctx.lists.exists(part.list_id):
            return await _recreate(ctx, part)
        if part.list_action is None:
            _store_list(ctx, part, part.list_id, "existing")
        return part.list_id
    found = await ctx.lists.find(part.name)
    if found is not None:
        check_claim(ctx, part, found)
        _store_list(ctx, part, found, "adopted")
        return found
    list_id = await ctx.lists.create(part.name)
    _store_list(ctx, part, list_id, "created")
    return list_id


def _store_list(ctx: PassContext, part: Part, list_id: int, action: str) -> None:
    with ctx.env.database.session() as session:
        set_list(session.get_one(Binding, part.binding_id), list_id=list_id,
                 list_name=part.name)  # fmt: skip
        record_list(session, part.id, list_id=list_id, action=action)
    part.list_id, part.list_action = list_id, action


async def _recreate(ctx: PassContext, part: Part) -> int:
    """A new list for a segment whose list was deleted in Iterable: full resend.

    Gone means a fresh read of the project's lists no longer shows it. A list
    Iterable still lists but refuses (invalidListId: made moments ago, perhaps
    by a run that stopped) is not ready yet: it is kept, and its sends wait.

    The sync state goes first (nobody is on the new list), then the part's
    progress, so a crash at any point leads the next pass here again or to a
    full plan against an empty state.
    """
    if part.list_id is not None:
        listed = await ctx.lists.still_listed(part.list_id)
        if listed is not None:
            ctx.client.note_listed(listed)
            return part.list_id
    remove_state(_state(ctx, part))
    if part.list_id is not None:
        ctx.lists.forget(part.list_id)
    list_id = await ctx.lists.create(part.name)
    with ctx.env.database.session() as session:
        row = _forget_progress(session, part.id)
        row.held_removals, row.invalid_file = False, None
    _store_list(ctx, part, list_id, "recreated")
    part.plan_path, part.held = None, False
    return list_id


async def _planned(ctx: PassContext, part: Part) -> Path:
    """:func:`ensure_plan`; in the lane, off the event loop, when segments go together.

    A plan made while other segments send must not hold up their answers. Before
    its first batch, a segment planned meanwhile stops if Ctrl-C was pressed or a
    cancel was asked for, as the next segment of a sequential run would.
    """
    if not ctx.together:
        return ensure_plan(ctx, part)
    try:
        out = await ctx.lane.submit(functools.partial(ensure_plan, ctx, part))
    except Exception:
        ctx.ctrl_c.check()  # Ctrl-C interrupted the planning query: not its error
        raise
    ctx.ctrl_c.check()
    with ctx.env.database.session() as session:
        if is_cancel_requested(session, ctx.run_id):
            raise RunCanceledError(ctx.run_id)
    return out


def ensure_plan(ctx: PassContext, part: Part) -> Path:
    """The part's persisted plan: reused when a pass made it, else made now.

    A plan that sent nothing is remembered (:mod:`audiencesync.sync.plan_memo`):
    when none of its inputs changed since, it is the plan again, unevaluated.
    A dry run's plan is only counted: its rows are never sent, so they are
    neither sorted into batches nor written, and no memo is made or dropped.
    A persisted plan whose file is gone is dropped with its checkpoints first.
    """
    if part.plan_path is not None:
        if (Path(part.plan_path) / PLAN_FILE).exists():
            return Path(part.plan_path)
        _drop_lost_plan(ctx, part)
    env = ctx.env
    out = plan_folder(env.home, ctx.run_id, part.binding_id)
    out.mkdir(parents=True, exist_ok=True)
    with env.database.session() as session:
        final = final_identifiers(session, part.binding_id)
        still_held = held_earlier(session, part.binding_id, before=ctx.run_id)
        full = get_run(session, ctx.run_id).full_resync
    state = _trusted_state(ctx, part)
    memo = memo_folder(env.home, part.binding_id)
    members = None if full or still_held is not None else _fingerprint(ctx, part)
    key = _plan_key(ctx, part, members, state, final)
    summary = recall(memo, key, out) if key is not None else None
    if summary is not None:
        env.segments.record_count(part.name, summary.members)
    else:
        summary = _make_plan(ctx, part, out, state=state, final=final, full=full)
        if not ctx.dry_run:  # counted, not written: nothing for the memo either
            _memoise(ctx, part, out, summary, memo=memo, key=key, members=members,
                     final=final)  # fmt: skip
    _record(ctx, part, out, summary, still_held=still_held is not None)
    return out


def _drop_lost_plan(ctx: PassContext, part: Part) -> None:
    """Forget a persisted plan whose file is gone, with its batches' checkpoints.

    Deleted by hand, or in a run-data folder another instance did not share: its
    acknowledged batch numbers would otherwise mark the new plan's batches of
    the same numbers as sent. Its rows are not in the sync state either, so the
    new plan sends them again.
    """
    with ctx.env.database.session() as session:
        _forget_progress(session, part.id)
    part.plan_path = None


def _forget_progress(session: Session, part_id: int) -> RunSegment:
    """Drop a part's plan, its batch checkpoints, rejects and sent counts."""
    session.execute(delete(RunBatch).where(RunBatch.run_segment_id == part_id))
    session.execute(delete(RunReject).where(RunReject.run_segment_id == part_id))
    row = session.get_one(RunSegment, part_id)
    row.plan_path, row.rejected = None, {}
    row.added = row.updated = row.removed = row.batches_acked = 0
    return row


def _memoise(
    ctx: PassContext,
    part: Part,
    out: Path,
    summary: PlanSummary,
    *,
    memo: Path,
    key: str | None,
    members: str | None,
    final: Collection[str],
) -> None:
    """Remember a plan that sends nothing; forget the memo otherwise."""
    if members is not None and members == _fingerprint(ctx, part):
        part.fresh = Fresh(members, frozenset(final), summary)
    if key is not None and part.fresh is not None and is_empty(summary):
        remember(memo, key, summary, out)
    else:
        forget(memo)


def _fingerprint(ctx: PassContext, part: Part) -> str | None:
    """The segment's members' fingerprint now (None: unknowable, never memoised)."""
    columns = ctx.target.mapping.columns
    return ctx.env.segments.fingerprint(part.name, columns=columns)


def _plan_key(
    ctx: PassContext,
    part: Part,
    members: str | None,
    state: Path | None,
    final: Collection[str],
) -> str | None:
    """The digest of the plan's inputs; None when the members' are unknowable."""
    if members is None:
        return None
    return plan_key(
        members=members,
        mapping=ctx.target.mapping,
        state=state,
        state_key=part.state_key,
        list_id=part.list_id,
        forgotten=final,
        policy=ctx.client.batch,
    )


def _remember_applied(ctx: PassContext, part: Part, out: Path, state: Path) -> None:
    """Memoise the empty plan that follows a plan applied whole to ``state``.

    Every batch acknowledged with nobody refused: the state now holds exactly
    the plan's target, so planning the same members against it again would
    send nothing. Unless the members changed meanwhile, that empty plan is
    remembered now, and the next run does not plan again.
    """
    fresh = part.fresh
    if fresh is None or fresh.members != _fingerprint(ctx, part):
        return
    key = _plan_key(ctx, part, fresh.members, state, fresh.final)
    if key is not None:
        memo = memo_folder(ctx.env.home, part.binding_id)
        remember(memo, key, applied(fresh.summary, in_state=_rows(state)), out)


def _make_plan(
    ctx: PassContext,
    part: Part,
    out: Path,
    *,
    state: Path | None,
    final: set[str],
    full: bool,
) -> PlanSummary:
    """Evaluate the segment and diff it with the sync state into ``out``."""
    final_file = write_emails(out / "final.parquet", final) if final else None
    mapping = ctx.target.mapping
    in_state = expected_members(state) if state is not None else 0
    frame = ctx.env.segments.frame(
        part.name, columns=mapping.columns, state_rows=in_state
    )
    if frame is not None and (columns := unpushable(frame, mapping)):
        logger.info(
            "binding %s is planned here, not in Spark: Spark prints %s unlike DuckDB",
            part.binding_id, ", ".join(columns),
        )  # fmt: skip
        frame = None
    members = (
        SparkMembers(frame)
        if frame is not None
        else ctx.env.segments.relation(part.name, columns=mapping.columns)
        or ctx.env.segments.evaluate(part.name, columns=mapping.columns)
    )
    started = time.perf_counter()
    summary = plan_binding(
        members,
        mapping=mapping,
        state=state,
        out=out,
        final=final_file,
        policy=ctx.client.batch,
        full=full,
        rows=not ctx.dry_run,
    )
    # Counted while planning: the history's duration is the plan's.
    if isinstance(members, SparkMembers):
        ctx.env.segments.record_count(part.name, members.member_count, started=started)
    elif isinstance(members, DuckDBRelation):
        ctx.env.segments.record_count(part.name, summary.members, started=started)
    return summary


def _record(
    ctx: PassContext, part: Part, out: Path, summary: PlanSummary, *, still_held: bool
) -> None:
    """Decide the brake, then store the plan's counts, location and rejects."""
    mapping = ctx.target.mapping
    held = mapping.is_mirror and _brake(
        summary.to_remove, in_state=summary.in_state, percent=ctx.target.removal_brake,
        members=summary.to_subscribe + summary.unchanged,
    )  # fmt: skip
    if still_held and mapping.is_mirror and summary.to_remove:
        held = True  # only an administrator releases held removals (sync.holds)
    with ctx.env.database.session() as session:
        record_plan(
            session,
            part.id,
            CountedPlan(
                add=summary.to_add + summary.retried,
                update=summary.to_update,
                remove=summary.to_remove,
                unchanged=summary.unchanged,
                invalid_in_source=summary.invalid,
                not_consenting=summary.not_consenting,
                batches=summary.subscribe_batches + summary.unsubscribe_batches,
                held_removals=held,
            ),
            plan_path=str(out),
        )
        keep_invalid(session, part.id, out / INVALID_FILE)
    part.plan_path, part.held = str(out), held


def _trusted_state(ctx: PassContext, part: Part) -> Path | None:
    """The binding's sync state to plan against; None when it is not provably its."""
    with ctx.env.database.session() as session:
        owner = state_owner(
            session, part.binding_id, list_id=part.list_id, run_id=ctx.run_id
        )
    return trusted_state(_state(ctx, part), owner, discard=not ctx.dry_run)


def _brake(to_remove: int, *, in_state: int, percent: int, members: int) -> bool:
    """Whether the planned removals are held for an administrator.

    They are when the segment has no valid member left while the list has
    members we added, or when they exceed ``percent`` % of those members
    (0 holds every removal, 100 only an emptied segment).
    """
    if to_remove == 0:
        return False
    if members == 0 and in_state > 0:
        return True
    return to_remove * 100 > percent * in_state


async def _send(ctx: PassContext, part: Part, list_id: int, out: Path) -> None:
    """Send what is left of the plan, then commit what Iterable acknowledged."""
    actions: frozenset[Action] = frozenset({"subscribe"}) if part.held else ALL_ACTIONS
    ctx.progress.segment_started(part.name, rows=_rows_left(ctx, part, out))
    limiter = ctx.client.limiter(Endpoint.SUBSCRIBE)

    def after(batch: EncodedBatch) -> None:
        ctx.beat()
        rate = getattr(limiter, "rate", None)
        ctx.progress.advanced(part.name, rows=len(batch.rows), rate=rate)

    batches = _batches_total(ctx, part)
    if batches == 0:
        return  # an empty plan: nothing to send, nothing to commit
    identity = StateIdentity(part.state_key, list_id)
    # Submitted now, not once the event loop runs a task: reading the plan for
    # the first batches must not delay it.
    prepared = ctx.lane.submit(
        functools.partial(
            _prepare, _state(ctx, part), out, batches, held=part.held, identity=identity
        )
    )
    acked: frozenset[int] = frozenset()
    try:
        with ctx.ctrl_c.graceful():  # Ctrl-C lets the batches in flight be answered
            acked = await send_batches(
                ctx.env.database,
                ctx.client,
                list_id=list_id,
                part=PartRef(ctx.run_id, part.id),
                out=out,
                state=_state(ctx, part),
                now=ctx.now,
                actions=actions,
                after_batch=after,
                stopping=ctx.ctrl_c.is_pressed,
            )
    finally:
        ready = await _settled(prepared)
        commit = functools.partial(_commit, ctx, part, out, acked, prepared=ready,
                                   batches=batches, identity=identity)  # fmt: skip
        if ctx.together:  # its DuckDB work takes its turn with the others' plans
            await ctx.lane.submit(commit)
        else:
            commit()


def _prepare(
    state: Path, out: Path, batches: int, *, held: bool, identity: StateIdentity
) -> Path | None:
    """The state after every batch, made while they are sent; None if pointless."""
    if held or batches == 0:
        return None  # the held removals will not be acked in this pass
    return prepare_state(state, out / PLAN_FILE, batches, out=out / PREPARED_FILE,
                         identity=identity)  # fmt: skip


async def _settled(prepared: asyncio.Future[Path | None]) -> Path | None:
    """The prepared state, or None if making it failed (a commit is made instead)."""
    try:
        return await prepared
    except Exception:
        return None


def _commit(
    ctx: PassContext,
    part: Part,
    out: Path,
    acked: frozenset[int],
    *,
    identity: StateIdentity,
    prepared: Path | None = None,
    batches: int = 0,
) -> None:
    """Apply every acknowledged batch of the plan to the sync state (idempotent).

    When every batch of the plan is acknowledged with nobody refused, the state
    ``prepared`` during the sends is exactly what the commit would write: it is
    put in place instead.
    """
    try:
        with ctx.env.database.session() as session:
            numbers = set(
                session.scalars(
                    select(RunBatch.batch).where(
                        RunBatch.run_segment_id == part.id,
                        RunBatch.acked_at.is_not(None),
                    )
                )
            )
            if not numbers and not acked:
                return
            rejected = write_rejected(session, part.id, out / REJECTED_FILE)
        done = numbers | acked
        state = _state(ctx, part)
        whole = done == set(range(1, batches + 1)) and _rows(rejected) == 0
        if prepared is not None and whole:
            adopt_state(prepared, state)
        else:
            commit_state(state, out / PLAN_FILE, done, rejected=rejected,
                         identity=identity)  # fmt: skip
        if whole:
            _remember_applied(ctx, part, out, state)
    finally:
        (out / PREPARED_FILE).unlink(missing_ok=True)


def _rows(path: Path) -> int:
    return parquet_rows(path)


def _batches_total(ctx: PassContext, part: Part) -> int:
    with ctx.env.database.session() as session:
        return session.get_one(RunSegment, part.id).batches_total


def _rows_left(ctx: PassContext, part: Part, out: Path) -> int:
    with ctx.env.database.session() as session:
        row = session.get_one(RunSegment, part.id)
        removals = row.planned_remove if part.held else 0
        sent = session.scalar(
            select(func.coalesce(func.sum(RunBatch.size), 0)).where(
                RunBatch.run_segment_id == part.id, RunBatch.acked_at.is_not(None)
            )
        )
    total = parquet_rows(out / PLAN_FILE)
    return max(total - removals - int(sent or 0), 0)


def _outcome(
    ctx: PassContext, part_id: int, *, held: bool, drifted: bool = False
) -> SegmentOutcome:
    with ctx.env.database.session() as session:
        row = session.get_one(RunSegment, part_id)
        rejected = bool(sum((row.rejected or {}).values()) or row.invalid_in_source)
    return SegmentOutcome(rejected=rejected, held=held, drifted=drifted)


def set_status(ctx: PassContext, part_id: int, status: RunStatus) -> None:
    with ctx.env.database.session() as session:
        set_segment_status(session, part_id, status)


def _state(ctx: PassContext, part: Part) -> Path:
    return state_path(ctx.env.home, part.binding_id)
