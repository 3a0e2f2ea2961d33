"""``audiencesync profiles``: import, generate and describe customer profiles.

Each command parses its flags, builds the settings, calls one function of
:mod:`audiencesync.profiles.service` and renders the result: Rich text on a
terminal, one JSON document with ``--json``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from audiencesync.cli.options import (
    AsOption,
    HomeOption,
    JsonOption,
    settings_for,
    workspace_for,
)
from audiencesync.cli.render import echo_json
from audiencesync.errors import ConfigError

if TYPE_CHECKING:
    from audiencesync.profiles.catalog import Catalog, Table
    from audiencesync.profiles.generator import GenerateReport
    from audiencesync.profiles.importing import ImportReport

TableOption = Annotated[
    str | None,
    typer.Option(
        "--table",
        help="Table to import into (default: the profile table, customers).",
        show_default=False,
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="Key column (default: the table's key, else customer_id).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``profiles`` command group to ``app``."""
    profiles = typer.Typer(
        name="profiles",
        help="Import, generate and describe customer profiles.",
        no_args_is_help=True,
    )
    profiles.command("import")(import_command)
    profiles.command("generate")(generate_command)
    profiles.command("schema")(schema_command)
    profiles.command("approve")(approve_command)
    profiles.command("discard")(discard_command)
    app.add_typer(profiles, name="profiles")


def import_command(
    file: Annotated[
        Path, typer.Argument(help="A .csv, .parquet, .jsonl or .ndjson file.")
    ],
    *,
    table: TableOption = None,
    key: KeyOption = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace the whole table instead of merging."),
    ] = False,
    home: HomeOption = None,
    as_user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Import profiles (or another table) from a file into the embedded store.

    Example: audiencesync profiles import customers.csv --key customer_id
    """
    from audiencesync.app.views.profiles import ImportView

    with workspace_for(home, as_user) as workspace:
        report = workspace.profiles.import_file(
            file, table=table, key=key, replace=replace
        )
    if json_output:
        echo_json(ImportView.of(report).as_json())
    else:
        _console().print(import_summary(report))


def generate_command(
    *,
    count: Annotated[int, typer.Option("--count", help="How many customers.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="Date the sample's dates lead up to, YYYY-MM-DD (default: today).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write customers to this .csv/.parquet/.jsonl file instead.",
            show_default=False,
        ),
    ] = None,
    no_purchases: Annotated[
        bool, typer.Option("--no-purchases", help="Skip the purchases table.")
    ] = False,
    home: HomeOption = None,
    as_user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Generate realistic sample profiles (and purchases), the same for a seed.

    Example: audiencesync profiles generate --count 100000 --seed 7
    """
    from audiencesync.app.views.profiles import GenerateView
    from audiencesync.app.workspace import open_workspace
    from audiencesync.profiles import service

    settings = settings_for(home, as_user)
    day = parse_anchor(anchor)
    if out is not None:
        report = service.generate_sample(
            settings, count=count, seed=seed, anchor=day, out=out
        )
    else:
        with open_workspace(settings) as workspace:
            report = workspace.profiles.generate(
                count=count, seed=seed, anchor=day, purchases=not no_purchases
            )
    if json_output:
        echo_json(GenerateView.of(report).as_json())
    else:
        _console().print(generate_summary(report))


def schema_command(
    *,
    home: HomeOption = None,
    as_user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show the profile engine's tables: key, row count, columns and kinds.

    Example: audiencesync profiles schema --json
    """
    from audiencesync.app.views import as_json
    from audiencesync.app.views.profiles import TableView
    from audiencesync.app.workspace import open_workspace

    settings = settings_for(home, as_user)
    with open_workspace(settings) as workspace:
        catalog = workspace.profiles.schema()
    if json_output:
        echo_json(as_json([TableView.of(table) for table in catalog.tables]))
        return
    console = _console()
    if not catalog.tables:
        console.print(
            empty_schema_message(catalog, external=bool(settings.profiles_url))
        )
    for table in catalog.tables:
        console.print(schema_table(table))


HeldTableArgument = Annotated[
    str, typer.Argument(help="The table whose refresh the removal brake held.")
]


def approve_command(
    table: HeldTableArgument,
    *,
    home: HomeOption = None,
    as_user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Put a refresh the removal brake held in place, exactly as it was held.

    Administrators only. Example: audiencesync profiles approve customers
    """
    from audiencesync.app.views.profiles import HoldView

    with workspace_for(home, as_user) as workspace:
        hold = workspace.profiles.approve_refresh(table)
    if json_output:
        echo_json(HoldView.of(hold).as_json())
    else:
        typer.echo(
            f"Applied the held refresh of {hold.table}: {hold.rows:,} rows became"
            f" {hold.new_rows:,} ({hold.removed:,} removed)."
        )


def discard_command(
    table: HeldTableArgument,
    *,
    home: HomeOption = None,
    as_user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Drop a refresh the removal brake held; the table keeps its rows.

    Administrators only. Example: audiencesync profiles discard customers
    """
    from audiencesync.app.views.profiles import HoldView

    with workspace_for(home, as_user) as workspace:
        hold = workspace.profiles.discard_refresh(table)
    if json_output:
        echo_json(HoldView.of(hold).as_json())
    else:
        typer.echo(
            f"Discarded the held refresh of {hold.table}; the table keeps its rows."
            " The next refresh holds it again while its source files stay as they"
            " are."
        )


def parse_anchor(text: str | None) -> date | None:
    """``--anchor YYYY-MM-DD`` as a date."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        msg = f"--anchor {text!r} is not a date; use YYYY-MM-DD, e.g. 2025-06-01."
        raise ConfigError(msg) from exc


def import_summary(report: ImportReport) -> str:
    """One line on what an import did."""
    return (
        f"Imported {report.source.name} into {report.table} ({report.mode.value}):"
        f" {report.rows_added:,} added, {report.rows_updated:,} updated,"
        f" {report.rows:,} rows now; key {report.key}; {len(report.columns)} columns."
    )


def generate_summary(report: GenerateReport) -> str:
    """What a generation wrote, one line per file."""
    lines = [
        f"Generated {report.count:,} sample customers (seed {report.seed},"
        f" dates up to {report.anchor.isoformat()}):"
    ]
    lines += [
        f"  {file.table}: {file.rows:,} rows in {file.path}" for file in report.files
    ]
    return "\n".join(lines)


def empty_schema_message(catalog: Catalog, *, external: bool) -> str:
    """What to do when there are no tables yet."""
    if external:
        return (
            "The external profile database (AUDIENCESYNC_PROFILES_URL) has no"
            f" tables; create the {catalog.profile_table} table there."
        )
    return (
        "No profiles yet. Import them with `audiencesync profiles import FILE`, or"
        " make a sample with `audiencesync profiles generate --count 1000`."
    )


def schema_table(table: Table) -> RichTable:
    """One table's columns as a Rich table."""
    rows = "?" if table.rows is None else f"{table.rows:,}"
    title = f"{table.name} (key {table.key or 'unknown'}, {rows} rows)"
    rendered = RichTable(title=title, title_justify="left")
    for heading in ("column", "kind", "type"):
        rendered.add_column(heading)
    for column in table.columns:
        rendered.add_row(column.name, column.kind.value, column.sql_type)
    return rendered


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)
