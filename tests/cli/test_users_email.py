"""Users' e-mail addresses on the command line: add, set, clear, list, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner, Result

from audiencesync.cli import app


def run(home: Path, *args: str) -> Result:
    """Run ``audiencesync ARGS --home HOME``."""
    return CliRunner().invoke(app, [*args, "--home", str(home)])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder with the first administrator and a viewer ``vic``."""
    folder = tmp_path / "home"
    assert run(folder, "init").exit_code == 0
    assert run(folder, "users", "add", "vic", "--role", "viewer").exit_code == 0
    return folder


def emails(home: Path) -> dict[str, object]:
    """Each user's address, from ``users list --json``."""
    users = json.loads(run(home, "users", "list", "--json").stdout)
    return {user["name"]: user["email"] for user in users}


def audit_details(home: Path) -> list[str]:
    """The raw details of every user.set_email audit event."""
    engine = create_engine(f"sqlite:///{home / 'audiencesync.db'}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT details FROM audit_events WHERE action = 'user.set_email'")
            )
            return [str(row[0]) for row in rows]
    finally:
        engine.dispose()


def test_add_with_email_stores_it_lowercased(home: Path) -> None:
    """--email is trimmed and lowercased, and users list shows it."""
    result = run(
        home, "users", "add", "olga", "--role", "admin", "--email", " Olga@Example.ORG "
    )
    assert result.exit_code == 0, result.output
    assert emails(home)["olga"] == "olga@example.org"


def test_set_email_changes_the_address(home: Path) -> None:
    """set-email NAME ADDRESS sets it and says so."""
    result = run(home, "users", "set-email", "vic", "vic@example.org")
    assert result.stdout == "vic's e-mail address is vic@example.org.\n"
    assert emails(home)["vic"] == "vic@example.org"


def test_set_email_clear_removes_the_address(home: Path) -> None:
    """--clear removes it."""
    run(home, "users", "set-email", "vic", "vic@example.org")
    result = run(home, "users", "set-email", "vic", "--clear")
    assert (result.exit_code, emails(home)["vic"]) == (0, None)


def test_set_email_audits_a_change_once_and_never_the_address(home: Path) -> None:
    """One event per change, none for the same address again; no address in it."""
    run(home, "users", "set-email", "vic", "vic@example.org")
    run(home, "users", "set-email", "vic", "VIC@example.org")
    details = audit_details(home)
    assert len(details) == 1
    assert "example.org" not in details[0]


def test_a_malformed_address_is_refused_with_exit_2(home: Path) -> None:
    """Not an address: exit 2, nothing stored."""
    result = run(home, "users", "set-email", "vic", "vic-at-example")
    assert result.exit_code == 2
    assert "not a valid e-mail address" in result.stderr
    assert emails(home)["vic"] is None


def test_set_email_needs_an_address_or_clear(home: Path) -> None:
    """Neither an address nor --clear is a usage error."""
    result = run(home, "users", "set-email", "vic")
    assert result.exit_code == 2
    assert "Give either an e-mail address or --clear" in result.output


def test_only_administrators_set_addresses(home: Path) -> None:
    """A viewer cannot change anyone's address, their own included."""
    result = run(home, "users", "set-email", "vic", "vic@example.org", "--as", "vic")
    assert result.exit_code == 3
