"""``audiencesync users ...`` on the command line: roles, --as, stdin, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app

PASSWORD = "correct horse battery"


def run(home: Path, *args: str, stdin: str | None = None) -> Result:
    """Run ``audiencesync ARGS --home HOME``."""
    return CliRunner().invoke(app, [*args, "--home", str(home)], input=stdin)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder with ``admin`` (default user), ``ana`` (contributor), ``vic``."""
    folder = tmp_path / "home"
    assert run(folder, "init").exit_code == 0
    assert run(folder, "users", "add", "ana", "--role", "contributor").exit_code == 0
    assert run(folder, "users", "add", "vic", "--role", "viewer").exit_code == 0
    return folder


def users_json(home: Path) -> list[dict[str, object]]:
    """``users list --json`` as Python data."""
    result = run(home, "users", "list", "--json")
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def test_add_prints_the_user_and_role(home: Path) -> None:
    """``users add`` confirms in one line."""
    result = run(home, "users", "add", "bea", "--role", "ADMIN")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added user bea (an administrator).\n"


def test_add_with_json_prints_the_user(home: Path) -> None:
    """``--json`` prints the new user as one object."""
    result = run(home, "users", "add", "bea", "--role", "viewer", "--json")
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("name", "role", "active", "created_by")} == {
        "name": "bea",
        "role": "viewer",
        "active": True,
        "created_by": "admin",
    }


def test_add_with_password_stdin(home: Path) -> None:
    """``--password-stdin`` sets a password; it is printed nowhere."""
    result = run(
        home,
        "users",
        "add",
        "bea",
        "--role",
        "viewer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert [u["has_password"] for u in users_json(home) if u["name"] == "bea"] == [True]


def test_set_password_sets_it_printing_nothing_secret(home: Path) -> None:
    """``users set-password`` reads stdin; the password is shown nowhere."""
    result = run(home, "users", "set-password", "ana", stdin=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Set the password of ana.\n"
    assert [u["has_password"] for u in users_json(home) if u["name"] == "ana"] == [True]


def test_set_password_of_someone_else_needs_an_admin(home: Path) -> None:
    """A contributor sets their own password only: exit 3 for another's."""
    result = run(
        home, "users", "set-password", "vic", "--as", "ana", stdin=PASSWORD + "\n"
    )

    assert result.exit_code == 3, result.output


def test_add_refuses_an_unknown_role(home: Path) -> None:
    """A role outside the three is a usage error naming the choices."""
    result = run(home, "users", "add", "bea", "--role", "owner")
    assert result.exit_code == 2
    assert "admin" in result.stderr
    assert "contributor" in result.stderr


def test_list_shows_every_user(home: Path) -> None:
    """The text table names every user and role."""
    result = run(home, "users", "list")
    assert result.exit_code == 0, result.output
    for word in ("admin", "ana", "contributor", "vic", "viewer"):
        assert word in result.stdout


def test_list_json_includes_removed_users(home: Path) -> None:
    """Removed users stay listed, inactive."""
    assert run(home, "users", "remove", "vic").exit_code == 0
    listed = {u["name"]: u["active"] for u in users_json(home)}
    assert listed == {"admin": True, "ana": True, "vic": False}


@pytest.mark.parametrize(
    "args",
    [
        ["users", "add", "bea", "--role", "viewer"],
        ["users", "list"],
        ["users", "set-role", "vic", "--role", "admin"],
        ["users", "remove", "ana"],
        ["users", "token", "ana"],
        ["users", "tokens", "ana"],
        ["users", "revoke-token", "ana", "x"],
        ["audit"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_viewer_is_refused_with_exit_3(home: Path, args: list[str]) -> None:
    """``--as vic`` (a viewer): one ``Error:`` line on stderr, exit code 3."""
    result = run(home, *args, "--as", "vic")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("Error: vic is a viewer and cannot ")
    assert "Ask an administrator (admin)" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_unknown_acting_user_exits_2(home: Path) -> None:
    """``--as zoe``: the users that exist and how to add one."""
    result = run(home, "users", "list", "--as", "zoe")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: No user named 'zoe'. Users: admin, ana, vic."
        " An administrator can add one. Run `audiencesync users add`.\n"
    )


def test_acting_user_from_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUDIENCESYNC_USER works like ``--as``."""
    monkeypatch.setenv("AUDIENCESYNC_USER", "ana")
    result = run(home, "users", "list")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: ana is a contributor and cannot")


def test_set_role_prints_the_new_role(home: Path) -> None:
    """``set-role`` confirms the role people-style."""
    result = run(home, "users", "set-role", "vic", "--role", "contributor")
    assert result.stdout == "vic is a contributor.\n"


def test_set_role_of_the_last_admin_exits_2(home: Path) -> None:
    """Demoting the only administrator: exit 2 with the fix."""
    result = run(home, "users", "set-role", "admin", "--role", "viewer", "--json")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: admin is the last active administrator")


def test_remove_prints_what_happened(home: Path) -> None:
    """``remove`` says the tokens stopped working too."""
    result = run(home, "users", "remove", "ana")
    assert result.stdout == "Removed user ana; their API tokens no longer work.\n"


def test_removed_user_cannot_act(home: Path) -> None:
    """After removal, ``--as ana`` exits 3 with the date."""
    run(home, "users", "remove", "ana")
    result = run(home, "users", "tokens", "ana", "--as", "ana")
    assert result.exit_code == 3
    assert "Error: User 'ana' was removed on" in result.stderr


def test_token_prints_the_token_alone_on_stdout(home: Path) -> None:
    """The token is stdout's only line; the not-shown-again warning is on stderr."""
    result = run(home, "users", "token", "ana", "--label", "ci")
    assert result.exit_code == 0, result.output
    [token] = result.stdout.splitlines()
    assert token.startswith("as_")
    assert "Created API token 'ci' for ana." in result.stderr
    assert "it is not shown again" in result.stderr


def test_token_json_includes_the_token_and_the_warning(home: Path) -> None:
    """``--json``: the token once, its label and last 4, and the warning."""
    data = json.loads(run(home, "users", "token", "ana", "--json").stdout)
    assert data["token"].startswith("as_")
    assert data["last4"] == data["token"][-4:]
    assert (data["label"], data["user"]) == ("token-1", "ana")
    assert "not shown again" in data["warning"]


def test_users_create_their_own_tokens(home: Path) -> None:
    """A viewer may create a token for themselves."""
    result = run(home, "users", "token", "vic", "--as", "vic")
    assert result.exit_code == 0, result.output


def test_tokens_never_shows_a_token_again(home: Path) -> None:
    """``tokens`` lists label and last 4; the token itself is nowhere."""
    token = run(home, "users", "token", "ana", "--label", "ci").stdout.strip()
    text = run(home, "users", "tokens", "ana")
    data = json.loads(run(home, "users", "tokens", "ana", "--json").stdout)
    assert token not in text.stdout + json.dumps(data)
    assert "ci" in text.stdout
    assert f"…{token[-4:]}" in text.stdout
    assert [(t["label"], t["last4"], t["active"]) for t in data] == [
        ("ci", token[-4:], True)
    ]


def test_tokens_of_a_user_without_any(home: Path) -> None:
    """No tokens yet: one line saying how to create one."""
    result = run(home, "users", "tokens", "vic")
    assert result.stdout == (
        "vic has no API tokens. Create one with `audiencesync users token`.\n"
    )


def test_revoke_token_by_last4(home: Path) -> None:
    """``revoke-token NAME LAST4`` revokes it and says which."""
    token = run(home, "users", "token", "ana", "--label", "ci").stdout.strip()
    result = run(home, "users", "revoke-token", "ana", token[-4:])
    assert result.stdout == f"Revoked API token 'ci' (…{token[-4:]}) of ana.\n"
    data = json.loads(run(home, "users", "tokens", "ana", "--json").stdout)
    assert data[0]["active"] is False


def test_revoke_token_json(home: Path) -> None:
    """``--json`` prints the revoked token's info."""
    run(home, "users", "token", "ana", "--label", "ci")
    data = json.loads(run(home, "users", "revoke-token", "ana", "ci", "--json").stdout)
    assert (data["label"], data["active"]) == ("ci", False)
    assert data["revoked_at"] is not None


def test_set_role_and_remove_print_json(home: Path) -> None:
    """``set-role --json`` and ``remove --json`` print the user."""
    changed = json.loads(
        run(home, "users", "set-role", "vic", "--role", "admin", "--json").stdout
    )
    removed = json.loads(run(home, "users", "remove", "vic", "--json").stdout)
    assert changed["role"] == "admin"
    assert (removed["active"], removed["removed_at"] is not None) == (False, True)
