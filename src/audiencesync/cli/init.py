"""``audiencesync init``: the data folder, database, key and first administrator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from audiencesync.cli.options import HomeOption, JsonOption, settings_for
from audiencesync.cli.stdin import read_secret

if TYPE_CHECKING:
    from audiencesync.app.home import InitReport

DEFAULT_ADMIN = "admin"  # app.home's; help shows it without loading the service

AdminOption = Annotated[
    str,
    typer.Option(
        "--admin", help="Name of the first administrator (created if no user exists)."
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the first administrator's password from stdin (12+ characters).",
    ),
]


def describe_schema(report: InitReport) -> str:
    """``created at 0001``, ``upgraded 0001 → 0002`` or ``already at 0001``."""
    if report.schema_from is None:
        return f"created at {report.schema_to}"
    if report.schema_changed:
        return f"upgraded {report.schema_from} → {report.schema_to}"
    return f"already at {report.schema_to}"


def describe_key(report: InitReport) -> str:
    """Where the secret key is, and whether this run created it."""
    if report.key_file is None:
        return "from AUDIENCESYNC_SECRET_KEY (no key file)"
    state = "created, mode 0600" if report.key_created else "kept"
    return f"{report.key_file} ({state})"


def describe_admin(report: InitReport) -> str:
    """``admin (created)`` or ``admin (exists)``: the default CLI user."""
    return f"{report.admin} ({'created' if report.admin_created else 'exists'})"


def summary(report: InitReport) -> list[str]:
    """The lines ``init`` prints."""
    folder = "created" if report.home_created else "kept"
    lines = [
        f"Data folder:      {report.home} ({folder})",
        f"Database:         {report.database}",
        f"Schema:           {describe_schema(report)}",
        f"Secret key:       {describe_key(report)}",
        f"Administrator:    {describe_admin(report)}",
    ]
    if not report.changed:
        lines.append("Nothing changed: everything was already in place.")
    return lines


def as_json(report: InitReport) -> dict[str, object]:
    """The ``--json`` object."""
    return {
        "home": str(report.home),
        "home_created": report.home_created,
        "database": report.database,
        "schema": describe_schema(report),
        "schema_from": report.schema_from,
        "schema_to": report.schema_to,
        "key_file": None if report.key_file is None else str(report.key_file),
        "key_created": report.key_created,
        "admin": report.admin,
        "admin_created": report.admin_created,
        "changed": report.changed,
    }


def register(app: typer.Typer) -> None:
    """Add the ``init`` command to ``app``."""

    @app.command("init")
    def init(
        *,
        admin: AdminOption = DEFAULT_ADMIN,
        password_stdin: PasswordStdinOption = False,
        home: HomeOption = None,
        json_output: JsonOption = False,
    ) -> None:
        """Create or upgrade the data folder, database, secret key and first admin.

        Safe to run again: it keeps the key file, upgrades an older database and
        creates the administrator only while there is no user.

        Example: audiencesync init --home ./.audiencesync --admin ana
        """
        from audiencesync.app.home import initialize

        password = (
            read_secret("password", flag="--password-stdin") if password_stdin else None
        )
        report = initialize(settings_for(home), admin=admin, password=password)
        if json_output:
            print(json.dumps(as_json(report), indent=2))
        else:
            print("\n".join(summary(report)))
