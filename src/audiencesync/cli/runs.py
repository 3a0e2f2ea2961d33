"""``audiencesync exports run`` and ``audiencesync runs list | show``.

The other ``runs`` commands (resume, cancel, approve, discard, rejects) live in
:mod:`audiencesync.cli.run_actions` and share this module's rendering.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from audiencesync.cli.hints import run_hint
from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.progress import BarProgress
from audiencesync.cli.render import echo_json, print_table, when
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.progress import NoProgress, RunProgress
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.app.views.runs import RunView, SegmentRunView
    from audiencesync.app.workspace import Workspace

runs_app = typer.Typer(
    name="runs", help="The history of export runs.", no_args_is_help=True
)
SUCCESS = frozenset({RunStatus.SUCCEEDED.value, RunStatus.SUCCEEDED_WITH_REJECTS.value})
"""The statuses a run command exits 0 with."""


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
        workspace_for(home, as_user) as workspace,
        bar(as_json=as_json) as progress,
        failed_run_shown(workspace, as_json=as_json),
    ):
        view = workspace.runs.run(name, dry_run=dry_run, full=full, progress=progress)
    finish_run(view, as_json=as_json)


@contextmanager
def failed_run_shown(workspace: Workspace, *, as_json: bool) -> Iterator[None]:
    """With ``--json``, a run that failed for good (or was refused) is printed first.

    The error still ends the command (one line on stderr, exit 1).
    """
    from audiencesync.sync.lock import RunInProgressError

    try:
        yield
    except (RunFailedError, RunInProgressError) as exc:
        shown = exc.run_id if isinstance(exc, RunFailedError) else exc.refused_run_id
        if as_json and shown is not None:
            echo_json(workspace.runs.show(shown).as_json())
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


def finish_run(view: RunView, *, as_json: bool) -> None:
    """Print the run; exit 1 unless it succeeded (with or without rejects)."""
    render_run(view, as_json=as_json)
    if view.status not in SUCCESS:
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
    from audiencesync.app.views import as_json as views_json

    with workspace_for(home, as_user) as workspace:
        infos = workspace.runs.list(export=export).items
    if as_json:
        echo_json(views_json(infos))
        return
    table = Table("Run", "Export", "Status", "Trigger", "Started", "Added", "Removed")
    for info in infos:
        table.add_row(
            str(info.id), export_label(info), info.status, trigger_text(info),
            when(info.started_at, never="not yet"), *_sent(info),
        )  # fmt: skip
    print_table(table)


def export_label(view: RunView) -> str:
    """The export's name for people, marked when the export was removed."""
    return f"{view.export} (removed)" if view.export_removed else view.export


def trigger_text(info: RunView) -> str:
    """How the run started, marked when it was a dry run (it sent nothing)."""
    return f"{info.trigger}, dry run" if info.dry_run else info.trigger


def _sent(info: RunView) -> tuple[str, str]:
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
    with workspace_for(home, as_user) as workspace:
        view = workspace.runs.show(run_id)
    render_run(view, as_json=as_json)


def _render_plan(info: RunView) -> None:
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
            segment.segment, target, f"{segment.planned_add:,}",
            f"{segment.planned_update:,}", f"{segment.planned_remove:,}",
            f"{segment.unchanged:,}", f"{segment.invalid_in_source:,}",
        )  # fmt: skip
    print_table(table)


def render_run(info: RunView, *, as_json: bool) -> None:
    """A run for people (status, error, a table of segments) or as JSON."""
    if as_json:
        echo_json(info.as_json())
        return
    kind = "Dry run" if info.dry_run else "Run"
    removed = " (removed)" if info.export_removed else ""
    typer.echo(f"{kind} {info.id} of {info.export!r}{removed}: {info.status}")
    if info.dry_run:
        _render_plan(info)
        return
    if info.error:
        typer.echo(f"  {info.error}")
    hint = run_hint(
        info.id,
        RunStatus(info.status),
        note=info.error,
        export_removed=info.export_removed,
    )
    if info.queued_action is not None and info.queued_by is None:
        hint = f"Its {info.queued_action} is starting."
    elif info.queued_action is not None:  # asked through the API: serve runs it
        hint = (
            f"Its {info.queued_action} is queued (asked by {info.queued_by}):"
            " `audiencesync serve` runs it."
        )
    if hint is not None:
        typer.echo(f"  {hint}")
    table = Table(
        "Segment", "List", "Added", "Updated", "Removed", "Unchanged", "Rejected",
        "Invalid in source",
    )  # fmt: skip
    for segment in info.segments:
        table.add_row(
            segment.segment,
            list_text(segment),
            f"{segment.added:,}", f"{segment.updated:,}", f"{segment.removed:,}",
            f"{segment.unchanged:,}", f"{sum(segment.rejected.values()):,}",
            f"{segment.invalid_in_source:,}",
        )  # fmt: skip
    print_table(table)
    for segment in info.segments:
        for note in segment_notes(segment):
            typer.echo(f"  {segment.segment}: {note}")


def list_text(segment: SegmentRunView) -> str:
    """The segment's Iterable list in a run, and how it came to be used."""
    if segment.list_id is None:
        return "none yet" if segment.list_action is None else "—"
    if segment.list_action is None:  # the run stopped before it checked the list
        return str(segment.list_id)
    return f"{segment.list_id} ({segment.list_action})"


def segment_notes(segment: SegmentRunView) -> list[str]:
    """What people should know of a segment beyond its counts."""
    notes = []
    if segment.list_action == "recreated":
        notes.append(
            "its list was deleted in Iterable; a new list was created and filled"
            " by a full resend."
        )
    if segment.held_removals and segment.status == RunStatus.HELD:
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
