"""``audiencesync audit``: who changed what, when (administrators only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.table import Table

from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.render import echo_json, print_table, when

DEFAULT_LIMIT = 100  # auth.audit's; help shows it without loading the service

LimitOption = Annotated[
    int, typer.Option("--limit", min=1, help="How many events to show, newest first.")
]
OffsetOption = Annotated[
    int, typer.Option("--offset", min=0, help="How many of the newest events to skip.")
]


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""
    app.command("audit")(audit)


def audit(
    *,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the audit log, newest first: who changed what, when, on which target.

    Example: audiencesync audit --limit 20 --json
    """
    from audiencesync.app.views import as_json as views_json
    from audiencesync.app.views.audit import AuditView

    with workspace_for(home, as_user) as workspace:
        entries = workspace.users.read_audit(limit=limit, offset=offset)
    if as_json:
        echo_json(views_json([AuditView.of(entry) for entry in entries]))
        return
    table = Table("At", "Actor", "Action", "Target type", "Target")
    table.add_column("Details", overflow="fold")
    for entry in entries:
        table.add_row(
            when(entry.at),
            entry.actor,
            entry.action,
            entry.target_type,
            entry.target,
            describe_details(entry.details),
        )
    print_table(table)


def describe_details(details: Mapping[str, Any]) -> str:
    """``role=admin, has_password=true``: the details in one line."""
    return ", ".join(f"{key}={_plain(value)}" for key, value in details.items())


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
