"""``audiencesync exports run`` and ``audiencesync runs list | show``.

The other ``runs`` commands (resume, cancel, approve, discard, rejects) live in
:mod:`audiencesync.cli.run_actions` and share this module's rendering.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.cli.hints import run_hint
from audiencesync.cli.options import AsOption, HomeOption, JsonOption, settings_for
from audiencesync.cli.progress import BarProgress
from audiencesync.cli.render import echo_json, iso, print_table, when
from audiencesync.sync.history import RunInfo, SegmentRunInfo
from audiencesync.sync.lock import RunInProgressError
from audiencesync.sync.progress import NoProgress, RunProgress
from audiencesync.sync.run_history import RunHistory
from audiencesync.sync.runner import RunFailedError, run_export
from audiencesync.sync.statuses import RunStatus

runs_app = typer.Typer(
    name="runs", help="The history of export runs.", no_args_is_help=True
)
SUCCESS = {RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_REJECTS}


def register(app: typer.Typer, exports_app: typer.Typer) -> None:
    """Add ``exports run`` and the ``runs`` group."""
    exports_app.command("run")(run)
    app.add_typer(runs_app)


def run(
    *,
    name: Annotated[str, typer.Argument(help="The export to run now.")],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Plan only: counts and the list each segment would use; nothing"
            " is created or sent.",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="A full resync: re-send every current member (and, in mirror"
            " mode, remove who the sync state holds but the segment does not).",
        ),
    ] = False,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run an export now: each segment into its Iterable list, only the changes.

    Exits 0 when the run succeeded (with or without rejects); 1 otherwise,
    Succeeded with drift included, so that scripts notice it.
    Example: audiencesync exports run Newsletter --json
    """
    with (
        open_workspace(settings_for(home, as_user)) as workspace,
        bar(as_json=as_json) as progress,
        failed_run_shown(workspace, as_json=as_json),
    ):
        info = run_export(
            workspace, name, dry_run=dry_run, full_resync=full, progress=progress
        )
    finish_run(info, as_json=as_json)


@contextmanager
def failed_run_shown(workspace: Workspace, *, as_json: bool) -> Iterator[None]:
    """With ``--json``, a run that failed for good (or was refused) is printed first.

    The error still ends the command (one line on stderr, exit 1).
    """
    try:
        yield
    except (RunFailedError, RunInProgressError) as exc:
        shown = exc.run_id if isinstance(exc, RunFailedError) else exc.refused_run_id
        if as_json and shown is not None:
            history = RunHistory(workspace.database, workspace.actor)
            echo_json(run_json(history.show(shown)))
        raise


@contextmanager
def bar(*, as_json: bool) -> Iterator[RunProgress]:
    """Progress bars on a terminal (stderr), nothing for JSON or pipes."""
    console = Console(stderr=True)
    if as_json or not console.is_terminal:
        yield NoProgress()
        return
    with BarProgress(console) as progress:
        yield progress


def finish_run(info: RunInfo, *, as_json: bool) -> None:
    """Print the run; exit 1 unless it succeeded (with or without rejects)."""
    render_run(info, as_json=as_json)
    if info.status not in SUCCESS:
        raise typer.Exit(1)


@runs_app.command("list")
def list_command(
    *,
    export: Annotated[
        str | None,
        typer.Option("--export", help="Only this export's runs.", show_default=False),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first.

    Example: audiencesync runs list --export Newsletter
    """
    with open_workspace(settings_for(home, as_user)) as workspace:
        infos = RunHistory(workspace.database, workspace.actor).list_all(export=export)
    if as_json:
        echo_json([run_json(info) for info in infos])
        return
    table = Table("Run", "Export", "Status", "Trigger", "Started", "Added", "Removed")
    for info in infos:
        table.add_row(
            str(info.id), info.export_label, str(info.status), trigger_text(info),
            when(info.started_at, never="not yet"), *_sent(info),
        )  # fmt: skip
    print_table(table)


def trigger_text(info: RunInfo) -> str:
    """How the run started, marked when it was a dry run (it sent nothing)."""
    return f"{info.trigger}, dry run" if info.dry_run else info.trigger


def _sent(info: RunInfo) -> tuple[str, str]:
    """Added and removed for a list row: a dry run sends nothing, so none."""
    if info.dry_run:
        return "— (dry run)", "— (dry run)"
    added = sum(segment.added for segment in info.segments)
    removed = sum(segment.removed for segment in info.segments)
    return f"{added:,}", f"{removed:,}"


@runs_app.command("show")
def show(
    *,
    run_id: Annotated[int, typer.Argument(help="The run's number.")],
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one run: status, and per segment its list and counts.

    Example: audiencesync runs show 12 --json
    """
    with open_workspace(settings_for(home, as_user)) as workspace:
        info = RunHistory(workspace.database, workspace.actor).show(run_id)
    render_run(info, as_json=as_json)


def run_json(info: RunInfo) -> dict[str, Any]:
    """A run as JSON: at least id, status and per segment list and counts."""
    return {
        "id": info.id,
        "export": info.export_name,
        "export_removed": info.export_removed,
        "status": str(info.status),
        "trigger": info.trigger,
        "dry_run": info.dry_run,
        "full_resync": info.full_resync,
        "requested_by": info.requested_by,
        "started_at": iso(info.started_at),
        "finished_at": iso(info.finished_at),
        "error": info.error,
        "duration_seconds": info.duration.total_seconds() if info.duration else None,
        "segments": [_segment_json(segment) for segment in info.segments],
    }


def _segment_json(segment: SegmentRunInfo) -> dict[str, Any]:
    return {
        "segment": segment.segment_name,
        "status": str(segment.status),
        "list_id": segment.list_id,
        "list_action": segment.list_action,
        "planned_add": segment.planned_add,
        "planned_update": segment.planned_update,
        "planned_remove": segment.planned_remove,
        "added": segment.added,
        "updated": segment.updated,
        "removed": segment.removed,
        "unchanged": segment.unchanged,
        "rejected": dict(segment.rejected),
        "invalid_in_source": segment.invalid_in_source,
        "not_consenting": segment.not_consenting,
        "batches": segment.batches_acked,
        "batches_total": segment.batches_total,
        "retries": segment.retries,
        "held_removals": segment.held_removals,
        "expected_size": segment.expected_size,
        "actual_size": segment.actual_size,
        "drift": segment.drift,
    }


def _render_plan(info: RunInfo) -> None:
    table = Table("Segment", "List", "To add", "To update", "To remove", "Unchanged",
                  "Invalid in source")  # fmt: skip
    for segment in info.segments:
        if segment.list_action == "recreated":
            target = "would be recreated (deleted in Iterable)"
        elif segment.list_id is None:
            target = "would be created"
        elif segment.list_action == "adopted":
            target = f"{segment.list_id} (would be adopted)"
        else:
            target = str(segment.list_id)
        table.add_row(
            segment.segment_name, target, f"{segment.planned_add:,}",
            f"{segment.planned_update:,}", f"{segment.planned_remove:,}",
            f"{segment.unchanged:,}", f"{segment.invalid_in_source:,}",
        )  # fmt: skip
    print_table(table)


def render_run(info: RunInfo, *, as_json: bool) -> None:
    """A run for people (status, error, a table of segments) or as JSON."""
    if as_json:
        echo_json(run_json(info))
        return
    kind = "Dry run" if info.dry_run else "Run"
    removed = " (removed)" if info.export_removed else ""
    typer.echo(f"{kind} {info.id} of {info.export_name!r}{removed}: {info.status}")
    if info.dry_run:
        _render_plan(info)
        return
    if info.error:
        typer.echo(f"  {info.error}")
    hint = run_hint(
        info.id, info.status, note=info.error, export_removed=info.export_removed
    )
    if hint is not None:
        typer.echo(f"  {hint}")
    table = Table(
        "Segment", "List", "Added", "Updated", "Removed", "Unchanged", "Rejected",
        "Invalid in source",
    )  # fmt: skip
    for segment in info.segments:
        table.add_row(
            segment.segment_name,
            list_text(segment),
            f"{segment.added:,}", f"{segment.updated:,}", f"{segment.removed:,}",
            f"{segment.unchanged:,}", f"{sum(segment.rejected.values()):,}",
            f"{segment.invalid_in_source:,}",
        )  # fmt: skip
    print_table(table)
    for segment in info.segments:
        for note in segment_notes(segment):
            typer.echo(f"  {segment.segment_name}: {note}")


def list_text(segment: SegmentRunInfo) -> str:
    """The segment's Iterable list in a run, and how it came to be used."""
    if segment.list_id is None:
        return "none yet" if segment.list_action is None else "—"
    if segment.list_action is None:  # the run stopped before it checked the list
        return str(segment.list_id)
    return f"{segment.list_id} ({segment.list_action})"


def segment_notes(segment: SegmentRunInfo) -> list[str]:
    """What people should know of a segment beyond its counts."""
    notes = []
    if segment.list_action == "recreated":
        notes.append(
            "its list was deleted in Iterable; a new list was created and filled"
            " by a full resend."
        )
    if segment.held_removals and segment.status is RunStatus.HELD:
        notes.append(
            f"{segment.planned_remove:,} removals held until an administrator"
            " approves or discards them."
        )
    if segment.drift:
        notes.append(
            f"drift: Iterable reports {segment.actual_size:,} members, the sync"
            f" state expects {segment.expected_size:,}."
        )
    return notes
