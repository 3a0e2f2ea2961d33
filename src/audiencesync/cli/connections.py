"""``audiencesync connections ...``: Iterable connections (administrators).

Each command parses its flags, opens the workspace as the acting user (``--as``),
calls one :class:`~audiencesync.connections.ConnectionService` method and
renders the result as text or, with ``--json``, as JSON. API keys come from
stdin or an environment variable, never from an argument, and are only ever
shown as their last four characters.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.render import cell, echo_json, plain, print_table, when
from audiencesync.cli.stdin import read_secret
from audiencesync.errors import ConfigError

if TYPE_CHECKING:
    from audiencesync.connections import (
        ConnectionInfo,
        ConnectionService,
        ConnectionSettings,
        RotationReport,
    )

connections_app = typer.Typer(
    name="connections",
    help="Connect Iterable projects: keys, consent, sharing (administrators).",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The connection's name.")]
KeyStdinOption = Annotated[
    bool,
    typer.Option(
        "--api-key-stdin", help="Read the Iterable API key from the first stdin line."
    ),
]
KeyEnvOption = Annotated[
    str | None,
    typer.Option(
        "--api-key-env",
        metavar="VAR",
        help="Read the Iterable API key from this environment variable.",
        show_default=False,
    ),
]
KEY_SOURCE_HINT = (
    "Give the Iterable API key with --api-key-stdin or --api-key-env VAR (never as"
    " an argument, where it would land in shell history and process lists)."
)


RegionName = Literal["us", "eu"]
"""iterable.Region's values: help lists them without loading the client."""


def register(app: typer.Typer) -> None:
    """Add the ``connections`` command group to ``app``."""
    app.add_typer(connections_app)


@contextmanager
def _service(home: Path | None, as_user: str | None) -> Iterator[ConnectionService]:
    with workspace_for(home, as_user) as workspace:
        yield workspace.connections


@connections_app.command("add")
def add(
    *,
    name: Annotated[
        str, typer.Option("--name", help="Display name: what it is for, where to.")
    ],
    api_key_stdin: KeyStdinOption = False,
    api_key_env: KeyEnvOption = None,
    region: Annotated[
        RegionName | None,
        typer.Option(
            "--region",
            help="Data center of the project: us (default) or eu.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="An explicit API address instead of a region (e.g. the emulator).",
            show_default=False,
        ),
    ] = None,
    allow_contributors: Annotated[
        bool,
        typer.Option(
            "--allow-contributors",
            help="Let contributors use it too (default: administrators only).",
        ),
    ] = False,
    i_agree: Annotated[
        bool,
        typer.Option(
            "--i-agree", help="Agree to the data privacy and compliance statement."
        ),
    ] = False,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check an Iterable API key, then save the connection; you become its export user.

    Example: printf '%s\\n' "$ITERABLE_KEY" | audiencesync connections add --name
    "Iterable US" --api-key-stdin --region us --i-agree
    """
    from audiencesync.connections import PRIVACY_STATEMENT
    from audiencesync.iterable import Region

    with _service(home, as_user) as service:
        service.require_manager()
        if not i_agree:
            typer.echo(PRIVACY_STATEMENT, err=True)
        key = _read_key(api_key_stdin, api_key_env) if i_agree else ""
        info = service.add(
            name,
            api_key=key,
            region=None if region is None else Region(region),
            base_url=base_url,
            shared=allow_contributors,
            agreed=i_agree,
        )
    _print_info(info, as_json=as_json, verb="Connected")


@connections_app.command("list")
def list_connections(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """List connections; only administrators see their settings.

    Example: audiencesync connections list --json
    """
    from audiencesync.app.views.connections import connection_view

    with _service(home, as_user) as service:
        infos = service.list_all()
    if as_json:
        echo_json([connection_view(info).as_json() for info in infos])
        return
    if not infos:
        typer.echo("No connections yet. An administrator adds one with")
        typer.echo(
            "`audiencesync connections add --name NAME --api-key-stdin --i-agree`."
        )
        return
    print_table(_table(infos))


@connections_app.command("show")
def show(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one connection (settings and status for administrators).

    Example: audiencesync connections show "Iterable US"
    """
    with _service(home, as_user) as service:
        info = service.get(name)
    _print_info(info, as_json=as_json, verb=None)


@connections_app.command("share")
def share(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Let contributors use the connection for their exports.

    Example: audiencesync connections share "Iterable US"
    """
    with _service(home, as_user) as service:
        info = service.set_sharing(name, shared=True)
    _print_info(info, as_json=as_json, verb="Shared with contributors")


@connections_app.command("unshare")
def unshare(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Keep the connection for administrators; existing exports keep running.

    Example: audiencesync connections unshare "Iterable US"
    """
    with _service(home, as_user) as service:
        info = service.set_sharing(name, shared=False)
    _print_info(info, as_json=as_json, verb="For administrators only")


@connections_app.command("set-key")
def set_key(
    *,
    name: NameArgument,
    api_key_stdin: KeyStdinOption = False,
    api_key_env: KeyEnvOption = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the connection's API key (checked against Iterable first).

    Example: printf '%s\\n' "$NEW_KEY" | audiencesync connections set-key
    "Iterable US" --api-key-stdin
    """
    key = _read_key(api_key_stdin, api_key_env)
    with _service(home, as_user) as service:
        info = service.set_key(name, api_key=key)
    _print_info(info, as_json=as_json, verb="New key saved for")


@connections_app.command("authorize")
def authorize(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Become the connection's export user, so exports on it may run.

    Example: audiencesync connections authorize "Iterable US" --as ana
    """
    with _service(home, as_user) as service:
        info = service.authorize(name)
    _print_info(info, as_json=as_json, verb="Export user set for")


@connections_app.command("remove")
def remove(
    *, name: NameArgument, home: HomeOption = None, as_user: AsOption = None
) -> None:
    """Remove a connection that no export uses (detach or remove them first).

    Example: audiencesync connections remove "Iterable US"
    """
    with _service(home, as_user) as service:
        service.remove(name)
    typer.echo(f"Removed connection {name.strip()}.")


@connections_app.command("rotate-keys")
def rotate_keys(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """Re-encrypt every stored API key under a new secret key.

    Example: audiencesync connections rotate-keys
    """
    from audiencesync.app.views.connections import rotation_view

    with _service(home, as_user) as service:
        report = service.rotate_keys()
    if as_json:
        echo_json(rotation_view(report).as_json())
        return
    for line in rotation_lines(report):
        typer.echo(line)


# --- input and output --------------------------------------------------------


def _read_key(from_stdin: bool, env_variable: str | None) -> str:
    if from_stdin == (env_variable is not None):
        raise ConfigError(KEY_SOURCE_HINT)
    if env_variable is None:
        return read_secret("API key", flag="--api-key-stdin")
    value = os.environ.get(env_variable, "").strip()
    if not value:
        msg = f"The environment variable {env_variable} is not set or is empty."
        raise ConfigError(msg)
    return value


def rotation_lines(report: RotationReport) -> list[str]:
    """What a rotation did, and what is left for the administrator to do."""
    lines = [f"Re-encrypted {len(report.rotated)} API key(s) under the new secret key."]
    if report.broken:
        lines.append(
            f"Could not read the API key of {', '.join(report.broken)}: left as it"
            " was. Enter it again with `audiencesync connections set-key NAME`."
        )
    if report.key_file is not None:
        lines.append(f"{report.key_file} now holds only the new key.")
    else:
        lines.append(
            "Now set AUDIENCESYNC_SECRET_KEY to its first key alone: the older keys"
            " are no longer needed."
        )
    return lines


def _where(settings: ConnectionSettings) -> str:
    if settings.base_url is not None:
        return settings.base_url
    return f"{(settings.region or 'us').upper()} data center"


def _short_where(settings: ConnectionSettings) -> str:
    return settings.base_url or (settings.region or "us").upper()


def _who(settings: ConnectionSettings) -> str:
    return "administrators and contributors" if settings.shared else "administrators"


def _print_info(info: ConnectionInfo, *, as_json: bool, verb: str | None) -> None:
    from audiencesync.app.views.connections import connection_view

    if as_json:
        echo_json(connection_view(info).as_json())
        return
    if verb is not None:
        typer.echo(f"{verb}: {plain(info.name)}")
    for label, value in _fields(info):
        typer.echo(f"{label + ':':<14}{plain(value)}")


def _fields(info: ConnectionInfo) -> list[tuple[str, str]]:
    fields = [("Name", info.name), ("Type", info.kind.capitalize())]
    settings = info.settings
    if settings is None:
        return [*fields, ("You may use", "yes" if info.usable else "no")]
    consent = settings.consent
    return [
        *fields,
        ("Target", _where(settings)),
        ("API key", settings.key_hint),
        ("Who can use", _who(settings)),
        ("Export user", settings.export_user or "none"),
        ("Consent", f"{consent.by}, {when(consent.at)}, version {consent.version}"),
        ("Status", settings.status.message),
    ]


def _table(infos: list[ConnectionInfo]) -> Table:
    if all(info.settings is None for info in infos):
        table = Table("Name", "Type", "You may use")
        for info in infos:
            table.add_row(cell(info.name), info.kind, "yes" if info.usable else "no")
        return table
    table = Table("Name", "Type", "Target", "Key", "Shared", "Export user", "Status")
    for info in infos:
        settings = info.settings
        if settings is None:  # pragma: no cover - admins see every connection's
            continue
        table.add_row(
            cell(info.name),
            info.kind,
            _short_where(settings),
            settings.key_hint,
            "yes" if settings.shared else "no",
            settings.export_user or "none",
            settings.status.state.value,
        )
    return table
