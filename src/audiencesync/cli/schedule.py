"""``audiencesync schedule set | show | clear``, ``system``, ``refresh``, ``serve``.

Thin commands over :class:`~audiencesync.app.system.SystemService` (the refresh
schedule and the system overview), :mod:`audiencesync.scheduling.refresh` (the
refresh pipeline) and :mod:`audiencesync.scheduling.scheduler` (the loop
``serve`` runs beside the REST API, see :mod:`audiencesync.web.server`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.table import Table

from audiencesync.cli.fast_start import launcher
from audiencesync.cli.options import (
    AsOption,
    HomeOption,
    JsonOption,
    settings_for,
    workspace_for,
)
from audiencesync.cli.render import echo_json, print_table, when
from audiencesync.sync.run_log import RUN_LOG

if TYPE_CHECKING:
    from audiencesync.app.views.schedule import ScheduleView, SystemView
    from audiencesync.scheduling.refresh import RefreshReport, SourceResult
    from audiencesync.settings import Settings
    from audiencesync.web.server import Address

schedule_app = typer.Typer(
    name="schedule",
    help="The system refresh schedule (administrators change it).",
    no_args_is_help=True,
)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(app: typer.Typer) -> None:
    """Add the ``schedule`` group and the ``system``, ``refresh``, ``serve``."""
    app.add_typer(schedule_app)
    app.command("system")(system)
    app.command("refresh")(refresh)
    app.command("serve")(serve)


@schedule_app.command("set")
def set_schedule(
    *,
    cron: Annotated[
        str, typer.Argument(help='A cron schedule, e.g. "0 6 * * *" or "0 */4 * * *".')
    ],
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="IANA time zone the cron is read in (default: the one set, else UTC).",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set when the system refresh runs (several times a day is fine).

    Example: audiencesync schedule set "0 6,18 * * *" --timezone Europe/Paris
    """
    with workspace_for(home, as_user) as workspace:
        schedule = workspace.system.set_schedule(cron, timezone=timezone)
    _render_schedule(schedule, as_json=as_json)


@schedule_app.command("show")
def show_schedule(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """Show the system refresh schedule and when it runs next.

    Example: audiencesync schedule show --json
    """
    with workspace_for(home, as_user) as workspace:
        schedule = workspace.system.schedule()
    _render_schedule(schedule, as_json=as_json)


@schedule_app.command("clear")
def clear_schedule(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """Switch the scheduled refresh off (the default); `refresh` still works.

    Example: audiencesync schedule clear
    """
    with workspace_for(home, as_user) as workspace:
        schedule = workspace.system.clear_schedule()
    _render_schedule(schedule, as_json=as_json)


def system(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """Show the refresh schedule and each export's last run and next run.

    Example: audiencesync system --json
    """
    with workspace_for(home, as_user) as workspace:
        overview = workspace.system.overview()
    if as_json:
        echo_json(overview.as_json())
        return
    _print_overview(overview)


def refresh(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """Refresh now: re-import changed sources, count segments, run refresh exports.

    Exits 1 when a source, segment or export had a problem.
    Example: audiencesync refresh --json
    """
    from audiencesync.scheduling.refresh import run_refresh

    with workspace_for(home, as_user) as workspace:
        report = run_refresh(workspace)
    if as_json:
        echo_json(report_json(report))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def serve(
    *,
    host: Annotated[
        str, typer.Option("--host", help="Address the REST API listens on.")
    ] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, help="Port the REST API listens on (0: any)."
        ),
    ] = DEFAULT_PORT,
    home: HomeOption = None,
    fast_start: Annotated[
        bool,
        typer.Option(
            "--fast-start/--no-fast-start",
            help="Keep a launcher that starts this data folder's commands warm.",
        ),
    ] = True,
) -> None:
    """Serve the REST API, the scheduler and the run worker until Ctrl-C.

    One process: the API under /api/v1 (docs at /api/docs), the refresh and
    export schedules, and the runs the API queued. Scheduled work acts as the
    default user; each run's start and end is logged on stderr. A port in use
    exits 2. Meanwhile `audiencesync exports run` and the other commands on
    this data folder start in a process that imported everything already.
    Example: audiencesync serve --home ./data --port 8000
    """
    serve_until_stopped(settings_for(home), host=host, port=port, fast_start=fast_start)


def serve_until_stopped(
    settings: Settings, *, host: str, port: int, fast_start: bool = True
) -> None:
    """Serve (``serve``, and ``quickstart`` at its end) until Ctrl-C or SIGTERM."""
    from audiencesync.web.server import serve as serve_process

    show_progress_log()

    def started(address: Address) -> None:
        warm = " Commands on this data folder start warm." if fast_start else ""
        typer.echo(
            f"REST API on {address.api_url} (docs: {address.docs_url}); the"
            f" scheduler and the run worker run for {settings.home}.{warm}"
            " Ctrl-C stops.",
            err=True,
        )

    with (
        contextlib.suppress(KeyboardInterrupt),  # Ctrl-C before the handler is in
        launcher(settings.home) if fast_start else contextlib.nullcontext(),
    ):
        serve_process(settings, host=host, port=port, on_start=started)
    typer.echo("Stopped.", err=True)


def show_progress_log() -> None:
    """Let ``serve`` print each run's start and end, with the time, on stderr.

    Other commands (and ``serve``'s other loggers) only show warnings; the
    lines hold no profile data.
    """
    runs = logging.getLogger(RUN_LOG)
    if not any(isinstance(h, _CurrentStderr) for h in runs.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        runs.addHandler(handler)
    runs.setLevel(logging.INFO)
    runs.propagate = False  # not twice through the root's warning handler


class _CurrentStderr(logging.StreamHandler[TextIO]):
    """Writes to ``sys.stderr`` as it is when a record comes, not when made.

    A handler keeping the stream it was made with writes to a closed file once
    that stream is replaced and closed (an embedding caller, a test runner).
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        del value  # always the current sys.stderr


def report_json(report: RefreshReport) -> dict[str, Any]:
    """A refresh report as ``--json`` prints it (its view)."""
    from audiencesync.scheduling.report_view import RefreshReportView

    return RefreshReportView.of(report).as_json()


def held_line(source: SourceResult) -> str:
    """What a held table refresh means, and what an administrator can do."""
    return (
        f"Table {source.table}: refresh HELD, it would remove {source.removed:,} of"
        f" {source.rows:,} rows (more than AUDIENCESYNC_REFRESH_REMOVAL_BRAKE allows);"
        " the table and this refresh's exports keep the current rows. An"
        f" administrator applies it with `audiencesync profiles approve {source.table}`"
        f" or drops it with `audiencesync profiles discard {source.table}`."
    )


def _render_schedule(schedule: ScheduleView, *, as_json: bool) -> None:
    if as_json:
        echo_json(schedule.as_json())
        return
    if schedule.cron is None:
        typer.echo(
            "No refresh schedule is set: refreshes run only with `audiencesync"
            ' refresh`. Set one with `audiencesync schedule set "0 6 * * *"`.'
        )
        return
    typer.echo(f"Refresh schedule: cron {schedule.cron} ({schedule.timezone})")
    typer.echo(f"Next refresh: {schedule.next_run_text}")


def _print_overview(overview: SystemView) -> None:
    _render_schedule(overview.schedule, as_json=False)
    request = overview.refresh_requested
    if request is not None:
        typer.echo(
            f"A refresh was requested by {request.requested_by} at"
            f" {when(request.requested_at)}; `audiencesync serve` runs it next."
        )
    if not overview.exports:
        typer.echo("No exports yet.")
        return
    table = Table("Export", "Schedule", "Last run", "Next run")
    for export in overview.exports:
        last = export.last_run
        table.add_row(
            export.name,
            export.schedule_text,
            "none yet"
            if last is None
            else f"run {last.id}, {last.status}, {when(last.at)}",
            export.next_run_text,
        )
    print_table(table)


def _print_report(report: RefreshReport) -> None:
    from audiencesync.scheduling.refresh import HELD

    if report.sources:
        table = Table("Table", "Source", "Outcome", "Rows")
        for source in report.sources:
            table.add_row(
                source.table,
                source.source,
                source.outcome,
                "—" if source.rows is None else f"{source.rows:,}",
            )
        print_table(table)
    else:
        typer.echo("No profile table was imported from a file: nothing to re-import.")
    segments = Table("Segment", "Members")
    for segment in report.segments:
        segments.add_row(
            segment.name,
            "error" if segment.members is None else f"{segment.members:,}",
        )
    print_table(segments)
    if not report.exports:
        typer.echo("No active export follows the refresh.")
    else:
        exports = Table("Export", "Run", "Status")
        for export in report.exports:
            run = "—" if export.run_id is None else str(export.run_id)
            exports.add_row(export.name, run, export.status)
        print_table(exports)
    for source in report.sources:
        if source.outcome == HELD:
            typer.echo(held_line(source))
    problems = [
        *(f"{s.table}: {s.error}" for s in report.sources if s.error),
        *(f"{s.name}: {s.error}" for s in report.segments if s.error),
        *(f"{e.name}: {e.error}" for e in report.exports if e.error),
    ]
    for problem in problems:
        typer.echo(problem, err=True)
