"""``audiencesync exports edit``: change an export with the checks of ``add``.

Only the options given change; ``--clear-...`` flags remove an optional mapping.
Nothing is sent: like saving, editing never runs an export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from audiencesync.cli.exports import NameArgument, export_service, print_created
from audiencesync.cli.options import AsOption, HomeOption, JsonOption
from audiencesync.cli.render import echo_json
from audiencesync.errors import ConfigError

if TYPE_CHECKING:
    from audiencesync.exports import Unchanged


def edit(
    *,
    name: NameArgument,
    new_name: Annotated[
        str | None, typer.Option("--name", help="A new name.", show_default=False)
    ] = None,
    connection: Annotated[
        str | None,
        typer.Option(
            "--connection", help="Move to this connection.", show_default=False
        ),
    ] = None,
    email_field: Annotated[
        str | None,
        typer.Option("--email-field", help="The email column.", show_default=False),
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(
            "--segment",
            help="The segments, replacing the current ones (repeatable).",
            show_default=False,
        ),
    ] = None,
    user_id_field: Annotated[
        str | None,
        typer.Option("--user-id-field", help="The userId column.", show_default=False),
    ] = None,
    clear_user_id_field: Annotated[
        bool, typer.Option("--clear-user-id-field", help="Map no userId.")
    ] = False,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="Extra fields ITERABLE_FIELD=COLUMN, replacing the current"
            " ones (repeatable).",
            show_default=False,
        ),
    ] = None,
    clear_fields: Annotated[
        bool, typer.Option("--clear-fields", help="Send no extra fields.")
    ] = False,
    schedule: Annotated[
        str | None,
        typer.Option("--schedule", help="refresh, manual or cron.", show_default=False),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="IANA time zone.", show_default=False),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option("--mode", help="mirror or add-only.", show_default=False),
    ] = None,
    removal_brake: Annotated[
        int | None,
        typer.Option("--removal-brake", help="Percent.", show_default=False),
    ] = None,
    consent_column: Annotated[
        str | None,
        typer.Option("--consent-column", help="A boolean column.", show_default=False),
    ] = None,
    clear_consent_column: Annotated[
        bool, typer.Option("--clear-consent-column", help="Send regardless of consent.")
    ] = False,
    drift_threshold: Annotated[
        int | None,
        typer.Option(
            "--drift-threshold", metavar="PERCENT", help="Percent.", show_default=False
        ),
    ] = None,
    auto_resync: Annotated[
        bool | None,
        typer.Option(
            "--auto-resync/--no-auto-resync",
            help="After a run with drift, the next run is a full resync.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an export; only the options given change, and nothing is sent.

    Example: audiencesync exports edit Newsletter --schedule manual --mode add-only
    """
    from audiencesync.app.views.exports import export_saved_view
    from audiencesync.exports import UNCHANGED, parse_field_options

    _refuse_both(
        "--user-id-field", user_id_field, "--clear-user-id-field", clear_user_id_field
    )
    _refuse_both("--field", field, "--clear-fields", clear_fields)
    _refuse_both(
        "--consent-column",
        consent_column,
        "--clear-consent-column",
        clear_consent_column,
    )
    fields: dict[str, str] | Unchanged = UNCHANGED
    if field is not None or clear_fields:
        fields = parse_field_options(field or [])
    with export_service(home, as_user) as service:
        changed = service.edit(
            name,
            new_name=new_name if new_name is not None else UNCHANGED,
            connection=connection if connection is not None else UNCHANGED,
            email_field=email_field if email_field is not None else UNCHANGED,
            segments=segment if segment is not None else UNCHANGED,
            user_id_field=None if clear_user_id_field else (
                user_id_field if user_id_field is not None else UNCHANGED
            ),
            fields=fields,
            schedule=schedule if schedule is not None else UNCHANGED,
            timezone=timezone if timezone is not None else UNCHANGED,
            mode=mode if mode is not None else UNCHANGED,
            removal_brake=removal_brake if removal_brake is not None else UNCHANGED,
            consent_column=None if clear_consent_column else (
                consent_column if consent_column is not None else UNCHANGED
            ),
            drift_threshold=UNCHANGED if drift_threshold is None else drift_threshold,
            auto_resync=UNCHANGED if auto_resync is None else auto_resync,
        )  # fmt: skip
    if as_json:
        echo_json(export_saved_view(changed).as_json())
        return
    print_created(changed)


def _refuse_both(flag: str, value: object, clear: str, clearing: bool) -> None:
    if value is not None and clearing:
        msg = f"Give either {flag} or {clear}, not both."
        raise ConfigError(msg)
