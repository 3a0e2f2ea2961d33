"""``audiencesync exports ...``: export setups on Iterable connections.

Each command parses its flags, opens the workspace as the acting user (``--as``),
calls one :class:`~audiencesync.exports.ExportService` method and renders the
result as text or, with ``--json``, as JSON. Saving an export never runs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.render import cell, echo_json, plain, print_table, when
from audiencesync.cli.render import members as members_text

if TYPE_CHECKING:
    from audiencesync.exports import ExportCreated, ExportInfo, ExportService

exports_app = typer.Typer(
    name="exports",
    help="Set up exports of segments to Iterable lists (saving never runs them).",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The export's name.")]


def register(app: typer.Typer) -> None:
    """Add the ``exports`` command group (with ``edit``) to ``app``."""
    from audiencesync.cli import (
        export_edit,
        run_actions,
        runs,
    )

    exports_app.command("edit")(export_edit.edit)
    runs.register(app, exports_app)
    run_actions.register()
    app.add_typer(exports_app)


@contextmanager
def export_service(home: Path | None, as_user: str | None) -> Iterator[ExportService]:
    with workspace_for(home, as_user) as workspace:
        yield workspace.exports


@exports_app.command("add")
def add(
    *,
    name: Annotated[str, typer.Option("--name", help="The export's name (unique).")],
    connection: Annotated[
        str, typer.Option("--connection", help="The Iterable connection to use.")
    ],
    email_field: Annotated[
        str,
        typer.Option("--email-field", help="The profile column holding the email."),
    ],
    segment: Annotated[
        list[str],
        typer.Option(
            "--segment",
            help="A segment to export (repeatable); each feeds the Iterable list"
            " of the same name.",
        ),
    ],
    user_id_field: Annotated[
        str | None,
        typer.Option(
            "--user-id-field",
            help="The profile column holding Iterable's userId.",
            show_default=False,
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="An extra Iterable field, as ITERABLE_FIELD=COLUMN (repeatable).",
            show_default=False,
        ),
    ] = None,
    schedule: Annotated[
        str,
        typer.Option(
            "--schedule",
            help='refresh (with each refresh), manual, or cron, e.g. "0 6 * * *".',
        ),
    ] = "refresh",
    timezone: Annotated[
        str,
        typer.Option("--timezone", help="IANA time zone of a cron schedule."),
    ] = "UTC",
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="mirror (leavers are removed from the list) or add-only.",
        ),
    ] = "mirror",
    removal_brake: Annotated[
        int,
        typer.Option(
            "--removal-brake",
            help="Hold removals above this percentage of the list for approval.",
        ),
    ] = 20,
    consent_column: Annotated[
        str | None,
        typer.Option(
            "--consent-column",
            help="A boolean column: profiles where it is not true are never sent.",
            show_default=False,
        ),
    ] = None,
    drift_threshold: Annotated[
        int,
        typer.Option(
            "--drift-threshold",
            metavar="PERCENT",
            help="A list read back that differs from what was sent by more than"
            " this percentage ends the run Succeeded with drift.",
        ),
    ] = 5,
    auto_resync: Annotated[
        bool,
        typer.Option(
            "--auto-resync/--no-auto-resync",
            help="After a run with drift, make the next run a full resync.",
        ),
    ] = True,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Save an export and show each segment's member count; nothing is sent.

    Example: audiencesync exports add --name Newsletter --connection "Iterable
    prod" --email-field email --segment "France VIP" --schedule "0 6 * * *"
    """
    from audiencesync.app.views.exports import export_saved_view
    from audiencesync.exports import parse_field_options

    fields = parse_field_options(field or [])
    with export_service(home, as_user) as service:
        created = service.add(
            name,
            connection=connection,
            email_field=email_field,
            segments=segment,
            user_id_field=user_id_field,
            fields=fields,
            schedule=schedule,
            timezone=timezone,
            mode=mode,
            removal_brake=removal_brake,
            consent_column=consent_column,
            drift_threshold=drift_threshold,
            auto_resync=auto_resync,
        )
    if as_json:
        echo_json(export_saved_view(created).as_json())
        return
    print_created(created)


@exports_app.command("list")
def list_exports(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """List exports: connection, segments, schedule, next run, last run.

    Example: audiencesync exports list --json
    """
    from audiencesync.app.views.exports import export_view

    with export_service(home, as_user) as service:
        infos = service.list_all()
    if as_json:
        echo_json([export_view(info).as_json() for info in infos])
        return
    if not infos:
        typer.echo("No exports yet. Add one with `audiencesync exports add`.")
        return
    table = Table(
        "Export", "Connection", "Segments", "Schedule", "Next run", "Last run"
    )
    for info in infos:
        table.add_row(
            cell(info.name),
            cell(info.connection_text),
            cell(", ".join(info.segments)),
            info.schedule_text,
            info.next_run_text,
            last_run_text(info),
        )
    print_table(table)


@exports_app.command("show")
def show(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an export's mapping, segments, schedule, next run and last run.

    Example: audiencesync exports show Newsletter
    """
    from audiencesync.app.views.exports import export_view

    with export_service(home, as_user) as service:
        info = service.get(name)
    if as_json:
        echo_json(export_view(info).as_json())
        return
    _print_info(info)


@exports_app.command("remove")
def remove(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove an export; its Iterable lists are left as they are.

    Example: audiencesync exports remove Newsletter
    """
    from audiencesync.app.views.exports import ExportRemovedView

    with export_service(home, as_user) as service:
        removed = service.remove(name)
    if as_json:
        echo_json(ExportRemovedView(name=removed.name).as_json())
        return
    typer.echo(f"Removed export {removed.name!r}.")


@exports_app.command("detach")
def detach(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unlink an export from its connection: it stays, inactive, "No connection".

    Example: audiencesync exports detach Newsletter
    """
    from audiencesync.app.views.exports import export_view

    with export_service(home, as_user) as service:
        connection = service.get(name).connection
        info = service.detach(name)
    if as_json:
        echo_json(export_view(info).as_json())
        return
    typer.echo(
        f"Detached export {info.name!r} from {connection!r}: it is inactive and"
        ' shows "No connection".'
    )


# --- rendering ----------------------------------------------------------------


def last_run_text(info: ExportInfo) -> str:
    """``run 12, Succeeded, 2026-12-05 06:00 UTC``, or "none yet" (dry runs aside)."""
    last = info.last_run
    if last is None:
        return info.last_run_status
    return f"run {last.id}, {last.status}, {when(last.at)}"


def print_created(created: ExportCreated) -> None:
    info = created.export
    typer.echo(
        f"Saved export {info.name!r} on {info.connection_text!r}; nothing was sent"
        " (saving never runs an export)."
    )
    for segment, members in created.member_counts.items():
        typer.echo(f"  {segment}: {members_text(members)}")
    typer.echo(f"Next run: {info.next_run_text}")
    for warning in created.warnings:
        typer.echo(f"Warning: {warning}", err=True)


def _print_info(info: ExportInfo) -> None:
    console = Console(highlight=False)
    console.print(f"[bold]{cell(info.name)}[/]")
    for label, value in _details(info).items():
        console.print(f"{label}: {plain(value)}", markup=False)


def _details(info: ExportInfo) -> Mapping[str, str]:
    sharing = " (shared with contributors)" if info.connection_shared else ""
    return {
        "Connection": info.connection_text + (sharing if info.active else ""),
        "Segments": ", ".join(info.segments),
        "Email field": info.email_field,
        "userId field": info.user_id_field or "none",
        "Extra fields": _fields(info.fields),
        "Schedule": info.schedule_text,
        "Next run": info.next_run_text,
        "Mode": info.mode,
        "Removal brake": f"{info.removal_brake} %",
        "Consent column": info.consent_column or "none",
        "Drift threshold": f"{info.drift_threshold} %, auto resync "
        + ("on" if info.auto_resync else "off"),
        "Last run": last_run_text(info),
        "Created": f"{when(info.created_at)} by {info.created_by or 'unknown'}",
    }


def _fields(fields: Mapping[str, str]) -> str:
    if not fields:
        return "none"
    return ", ".join(f"{field} = {column}" for field, column in fields.items())
