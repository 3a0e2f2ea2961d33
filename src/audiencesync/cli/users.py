"""``audiencesync users ...``: users, their roles and their API tokens.

Each command parses its flags, opens the workspace as the acting user (``--as``),
calls one :class:`~audiencesync.auth.users.UserService` method and renders the
result as text or, with ``--json``, as JSON. Passwords are read from stdin only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from audiencesync.auth.roles import Role
from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.render import echo_json, print_table, when
from audiencesync.cli.stdin import read_secret

if TYPE_CHECKING:
    from audiencesync.auth.users import UserService

users_app = typer.Typer(
    name="users",
    help="Manage users, their roles and their API tokens (administrators).",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The user's name.")]
RoleOption = Annotated[
    Role,
    typer.Option("--role", help="admin, contributor or viewer.", case_sensitive=False),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read a password (12+ characters) from the first line of stdin.",
    ),
]
EmailOption = Annotated[
    str | None,
    typer.Option(
        "--email",
        help="The user's e-mail address (administrators get failed-run notices).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group to ``app``."""
    app.add_typer(users_app)


@contextmanager
def _service(home: Path | None, as_user: str | None) -> Iterator[UserService]:
    with workspace_for(home, as_user) as workspace:
        yield workspace.users


@users_app.command("add")
def add(
    *,
    name: NameArgument,
    role: RoleOption,
    password_stdin: PasswordStdinOption = False,
    email: EmailOption = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user with a role; names are unique whatever their letter case.

    Example: printf '%s\\n' "$PASSWORD" | audiencesync users add ana --role
    contributor --password-stdin
    """
    from audiencesync.app.views.users import UserView

    password = (
        read_secret("password", flag="--password-stdin") if password_stdin else None
    )
    with _service(home, as_user) as service:
        info = service.add(name, role=role, password=password, email=email)
    if as_json:
        echo_json(UserView.of(info).as_json())
        return
    typer.echo(f"Added user {info.name} ({info.role.title}).")


@users_app.command("set-password")
def set_password(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Set a user's password for the web pages: your own, or anyone's as an admin.

    Example: printf '%s\\n' "$PASSWORD" | audiencesync users set-password ana
    """
    password = read_secret("password", flag="users set-password")
    with _service(home, as_user) as service:
        info = service.set_password(name, password)
    typer.echo(f"Set the password of {info.name}.")


@users_app.command("list")
def list_users(
    *, home: HomeOption = None, as_user: AsOption = None, as_json: JsonOption = False
) -> None:
    """List every user with their role, removed users included.

    Example: audiencesync users list --json
    """
    from audiencesync.app.views import as_json as views_json
    from audiencesync.app.views.users import UserView

    with _service(home, as_user) as service:
        infos = service.list_all()
    if as_json:
        echo_json(views_json([UserView.of(info) for info in infos]))
        return
    table = Table("User", "Role", "E-mail", "Password", "Created", "By", "Removed")
    for info in infos:
        table.add_row(
            info.name,
            info.role.value,
            info.email or "—",
            "yes" if info.has_password else "no",
            when(info.created_at),
            info.created_by or "—",
            when(info.removed_at, never="—"),
        )
    print_table(table)


@users_app.command("set-role")
def set_role(
    *,
    name: NameArgument,
    role: RoleOption,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a user's role; the last administrator cannot be demoted.

    Example: audiencesync users set-role ana --role admin
    """
    from audiencesync.app.views.users import UserView

    with _service(home, as_user) as service:
        info = service.set_role(name, role)
    if as_json:
        echo_json(UserView.of(info).as_json())
        return
    typer.echo(f"{info.name} is {info.role.title}.")


@users_app.command("set-email")
def set_email(
    *,
    name: NameArgument,
    email: Annotated[
        str | None,
        typer.Argument(
            help="The new address; leave out with --clear.", show_default=False
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the user's e-mail address.")
    ] = False,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set or clear a user's e-mail address (where failed-run notices go).

    Example: audiencesync users set-email ana ana@example.com
    """
    from audiencesync.app.views.users import UserView

    if (email is None) == (not clear):
        msg = "Give either an e-mail address or --clear, not both and not neither."
        raise typer.BadParameter(msg)
    with _service(home, as_user) as service:
        info = service.set_email(name, None if clear else email)
    if as_json:
        echo_json(UserView.of(info).as_json())
        return
    if info.email is None:
        typer.echo(f"{info.name} has no e-mail address.")
    else:
        typer.echo(f"{info.name}'s e-mail address is {info.email}.")


@users_app.command("remove")
def remove(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a user and revoke their API tokens; the name stays reserved.

    Example: audiencesync users remove ana
    """
    from audiencesync.app.views.users import UserView

    with _service(home, as_user) as service:
        info = service.remove(name)
    if as_json:
        echo_json(UserView.of(info).as_json())
        return
    typer.echo(f"Removed user {info.name}; their API tokens no longer work.")


@users_app.command("token")
def create_token(
    *,
    name: NameArgument,
    label: Annotated[
        str | None,
        typer.Option(
            "--label",
            help="What the token is for (default: token-N).",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token for the REST API and print it, once.

    Administrators create tokens for anyone, other users for themselves.

    Example: audiencesync users token ana --label ci
    """
    from audiencesync.app.views.users import SHOWN_ONCE, CreatedTokenView

    with _service(home, as_user) as service:
        token, info = service.create_token(name, label=label)
    if as_json:
        echo_json(CreatedTokenView.created(token, info).as_json())
        return
    typer.echo(f"Created API token {info.label!r} for {info.user}.", err=True)
    typer.echo(token)
    typer.echo(SHOWN_ONCE, err=True)


@users_app.command("tokens")
def list_tokens(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a user's API tokens by label and last 4 characters.

    Example: audiencesync users tokens ana
    """
    from audiencesync.app.views import as_json as views_json
    from audiencesync.app.views.users import TokenView

    with _service(home, as_user) as service:
        infos = service.list_tokens(name)
    if as_json:
        echo_json(views_json([TokenView.of(info) for info in infos]))
        return
    if not infos:
        typer.echo(
            f"{name} has no API tokens. Create one with `audiencesync users token`."
        )
        return
    table = Table("Label", "Ends in", "Created", "Last used", "Revoked")
    for info in infos:
        table.add_row(
            info.label,
            f"…{info.last4}",
            when(info.created_at),
            when(info.last_used_at),
            when(info.revoked_at, never="—"),
        )
    print_table(table)


@users_app.command("revoke-token")
def revoke_token(
    *,
    name: NameArgument,
    token: Annotated[
        str, typer.Argument(help="The token's label or its last 4 characters.")
    ],
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke one of a user's API tokens, named by label or last 4 characters.

    Example: audiencesync users revoke-token ana ci
    """
    from audiencesync.app.views.users import TokenView

    with _service(home, as_user) as service:
        info = service.revoke_token(name, token)
    if as_json:
        echo_json(TokenView.of(info).as_json())
        return
    typer.echo(f"Revoked API token {info.label!r} (…{info.last4}) of {info.user}.")
