"""``audiencesync connections ...`` against a real emulator on a loopback port.

Every output, error and log record of these commands is checked for the API keys
and any 8-character piece of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.connections import verifier
from audiencesync.emulator import (
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    KeyType,
    serve_in_thread,
)
from audiencesync.iterable import Region
from audiencesync.settings import Settings
from audiencesync.store import Database
from audiencesync.store.destinations import Connection, Export

pytestmark = pytest.mark.socket

KEY = "CanaryCliKey4Rt7Yu1Io9Pa3Sd6Fg2H"
NEW_KEY = "CanaryCliNew8Jk2Lz5Xc1Vb7Nm4Qw9E"
READ_ONLY = "CanaryCliRO_6Tg3Yh8Uj1Ik5Ol9Pq2W"
CANARIES = (KEY, NEW_KEY, READ_ONLY)


def assert_clean(text: str) -> None:
    """No canary key, and no 8-character piece of one, is in ``text``."""
    for key in CANARIES:
        for start in range(len(key) - 7):
            assert key[start : start + 8] not in text


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log record of the test, captured at DEBUG, is free of key material."""
    caplog.set_level(logging.DEBUG)
    yield
    assert_clean(caplog.text)
    for record in caplog.records:
        assert_clean(record.getMessage())


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The emulator over a real socket (limits off: many tests call getUsers)."""
    emu = Emulator(
        EmulatorConfig(
            keys=(
                ApiKeySpec(KEY),
                ApiKeySpec(NEW_KEY),
                ApiKeySpec(READ_ONLY, key_type=KeyType.READ_ONLY),
            ),
            rate_limits_enabled=False,
        )
    )
    with serve_in_thread(emu) as url:
        yield url


def run(home: Path, *args: str, stdin: str | None = None) -> Result:
    """Run ``audiencesync ARGS --home HOME``; its output never shows a key."""
    result = CliRunner().invoke(app, [*args, "--home", str(home)], input=stdin)
    assert_clean(result.stdout + result.stderr)
    return result


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder with admin (default user), bo (admin), cy (contributor), vi."""
    folder = tmp_path / "home"
    assert run(folder, "init").exit_code == 0
    for name, role in (("bo", "admin"), ("cy", "contributor"), ("vi", "viewer")):
        assert run(folder, "users", "add", name, "--role", role).exit_code == 0
    return folder


def add(home: Path, base_url: str, *flags: str, key: str = KEY) -> Result:
    """``connections add --name "Iterable US"`` with the key on stdin."""
    return run(
        home,
        "connections",
        "add",
        "--name",
        "Iterable US",
        "--api-key-stdin",
        "--base-url",
        base_url,
        *flags,
        stdin=f"{key}\n",
    )


@pytest.fixture
def connected(home: Path, base_url: str) -> Path:
    """The data folder after admin added "Iterable US" with consent."""
    result = add(home, base_url, "--i-agree")
    assert result.exit_code == 0, result.output
    return home


def listed(home: Path, *flags: str) -> Any:
    """``connections list --json`` as Python data."""
    result = run(home, "connections", "list", "--json", *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def shown(home: Path, *flags: str) -> Any:
    """``connections show "Iterable US" --json`` as Python data."""
    result = run(home, "connections", "show", "Iterable US", "--json", *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_checks_the_key_and_shows_its_last_four(home: Path, base_url: str) -> None:
    """The connection is saved and shown with ``…`` and the key's last 4 only."""
    result = add(home, base_url, "--i-agree")
    assert result.exit_code == 0, result.output
    assert "Connected: Iterable US" in result.stdout
    assert f"API key:      …{KEY[-4:]}" in result.stdout
    assert "Export user:  admin" in result.stdout


def test_add_takes_a_region_in_any_letter_case(
    home: Path, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--region EU`` saves a connection to the EU data center."""
    urls = {Region.US: "http://127.0.0.1:9", Region.EU: base_url}  # EU: the emulator
    monkeypatch.setattr(verifier, "REGION_URLS", urls)
    result = run(
        home, "connections", "add", "--name", "Iterable US", "--api-key-stdin",
        "--region", "EU", "--i-agree", stdin=f"{KEY}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert shown(home)["settings"]["region"] == "eu"


def test_add_reads_the_key_from_an_environment_variable(
    home: Path, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--api-key-env VAR`` takes the key from VAR."""
    monkeypatch.setenv("ITERABLE_KEY", KEY)
    result = run(
        home,
        "connections",
        "add",
        "--name",
        "From env",
        "--api-key-env",
        "ITERABLE_KEY",
        "--base-url",
        base_url,
        "--i-agree",
    )
    assert result.exit_code == 0, result.output


def test_add_without_agreement_shows_the_statement(home: Path, base_url: str) -> None:
    """No --i-agree: the statement, the error, exit 2, nothing saved."""
    result = add(home, base_url)
    assert result.exit_code == 2
    assert result.stderr.startswith("Data privacy and compliance\n")
    assert "Nothing was saved. Add --i-agree." in result.stderr
    assert listed(home) == []


@pytest.mark.parametrize(
    "flags",
    [[], ["--api-key-stdin", "--api-key-env", "X"]],
    ids=["no-source", "two-sources"],
)
def test_add_needs_exactly_one_key_source(
    home: Path, base_url: str, flags: list[str]
) -> None:
    """The key comes from stdin or one variable; the error says how."""
    result = run(
        home,
        "connections",
        "add",
        "--name",
        "X",
        *flags,
        "--base-url",
        base_url,
        "--i-agree",
        stdin="",
    )
    assert result.exit_code == 2
    assert "--api-key-stdin or --api-key-env VAR" in result.stderr


def test_a_missing_environment_variable_is_named(home: Path, base_url: str) -> None:
    """An unset variable is a clear error."""
    result = run(
        home,
        "connections",
        "set-key",
        "Iterable US",
        "--api-key-env",
        "NOT_SET_ANYWHERE",
    )
    assert result.exit_code == 2
    assert "NOT_SET_ANYWHERE is not set" in result.stderr


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("CanaryCliBad0Zx9Cv8Bn7Mm6Ll5Kk4J", "Iterable refused the API key ending"),
        (READ_ONLY, "is a read-only key"),
    ],
    ids=["unknown", "read-only"],
)
def test_a_refused_key_saves_nothing(
    home: Path, base_url: str, key: str, message: str
) -> None:
    """Exit 1 with the reason; the connection does not exist."""
    result = add(home, base_url, "--i-agree", key=key)
    assert result.exit_code == 1
    assert message in result.stderr
    assert listed(home) == []


@pytest.mark.parametrize("user", ["cy", "vi"])
def test_only_administrators_add(home: Path, base_url: str, user: str) -> None:
    """Contributors and viewers get exit 3."""
    assert add(home, base_url, "--i-agree", "--as", user).exit_code == 3


@pytest.mark.parametrize("user", ["cy", "vi"])
def test_others_list_name_and_type_only(connected: Path, user: str) -> None:
    """Contributors and viewers see the name and the type, nothing more."""
    assert listed(connected, "--as", user) == [
        {"name": "Iterable US", "type": "iterable"}
    ]


def test_show_gives_administrators_the_settings(connected: Path) -> None:
    """Settings: key hint, export user, consent, status."""
    settings = shown(connected)["settings"]
    assert settings["key"] == f"…{KEY[-4:]}"
    assert (settings["export_user"], settings["status"]) == ("admin", "ok")
    assert settings["consent"]["by"] == "admin"


def test_share_lets_contributors_use_it(connected: Path) -> None:
    """After ``share`` a contributor may use it; after ``unshare`` not."""
    as_cy = ("connections", "show", "Iterable US", "--as", "cy")
    assert run(connected, "connections", "share", "Iterable US").exit_code == 0
    assert shown(connected)["settings"]["shared"] is True
    assert "You may use:  yes" in run(connected, *as_cy).stdout
    assert run(connected, "connections", "unshare", "Iterable US").exit_code == 0
    assert shown(connected)["settings"]["shared"] is False
    assert "You may use:  no" in run(connected, *as_cy).stdout


def test_set_key_replaces_the_key(connected: Path) -> None:
    """The new key is checked and stored; show has its last four."""
    result = run(
        connected,
        "connections",
        "set-key",
        "Iterable US",
        "--api-key-stdin",
        stdin=f"{NEW_KEY}\n",
    )
    assert result.exit_code == 0, result.output
    assert shown(connected)["settings"]["key"] == f"…{NEW_KEY[-4:]}"


def test_a_demoted_export_user_needs_a_new_authorisation(connected: Path) -> None:
    """Demoting admin breaks the connection until bo authorises it."""
    demote = ("users", "set-role", "admin", "--role", "contributor", "--as", "bo")
    assert run(connected, *demote).exit_code == 0
    settings = shown(connected, "--as", "bo")["settings"]
    assert settings["status"] == "export user no longer authorised"
    assert "must authorise the connection" in settings["problem"]
    result = run(connected, "connections", "authorize", "Iterable US", "--as", "bo")
    assert result.exit_code == 0, result.output
    settings = shown(connected, "--as", "bo")["settings"]
    assert (settings["export_user"], settings["status"]) == ("bo", "ok")


def test_remove_is_refused_while_an_export_uses_it(connected: Path) -> None:
    """Exit 2 naming the export and ``exports detach``."""
    url = Settings(home=connected).database
    with Database.open(url) as database, database.session() as session:
        connection = session.scalars(select(Connection)).one()
        session.add(
            Export(
                name="Weekly",
                name_key="weekly",
                connection_id=connection.id,
                email_field="email",
            )
        )
    result = run(connected, "connections", "remove", "Iterable US")
    assert result.exit_code == 2
    assert "used by 1 export(s): Weekly" in result.stderr
    assert "exports detach NAME" in result.stderr


def test_remove_deletes_the_connection(connected: Path) -> None:
    """An unused connection is removed."""
    result = run(connected, "connections", "remove", "iterable us")
    assert result.exit_code == 0, result.output
    assert listed(connected) == []


def test_rotate_keys_replaces_the_key_file(connected: Path) -> None:
    """A new key file; the connection still reads, and the report says so."""
    before = (connected / "secret.key").read_bytes()
    result = run(connected, "connections", "rotate-keys", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "rotated": ["Iterable US"],
        "broken": [],
        "key_file": str(connected / "secret.key"),
    }
    assert (connected / "secret.key").read_bytes() != before
    assert shown(connected)["settings"]["status"] == "ok"


def test_rotate_keys_with_one_env_key_explains_the_steps(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single key in AUDIENCESYNC_SECRET_KEY: exit 2 with the NEW,OLD recipe."""
    monkeypatch.setenv("AUDIENCESYNC_SECRET_KEY", Fernet.generate_key().decode())
    result = run(home, "connections", "rotate-keys")
    assert result.exit_code == 2
    assert "AUDIENCESYNC_SECRET_KEY=NEW,OLD" in result.stderr


def test_list_without_connections_says_how_to_add_one(home: Path) -> None:
    """An empty list points at ``connections add``."""
    result = run(home, "connections", "list")
    assert result.exit_code == 0
    assert "No connections yet" in result.stdout


def test_list_shows_administrators_a_table_of_settings(connected: Path) -> None:
    """Administrators' table has the key hint, export user and status."""
    result = run(connected, "connections", "list")
    assert result.exit_code == 0, result.output
    for text in (f"…{KEY[-4:]}", "admin", "ok", "Export user"):
        assert text in result.stdout


def test_list_shows_others_only_names_and_types(connected: Path) -> None:
    """A contributor's table has no settings columns."""
    result = run(connected, "connections", "list", "--as", "cy")
    assert result.exit_code == 0, result.output
    assert "You may use" in result.stdout
    assert "Export user" not in result.stdout
    assert f"…{KEY[-4:]}" not in result.stdout


def test_rotate_keys_says_what_it_did(connected: Path) -> None:
    """The text report counts the keys and names the rewritten key file."""
    result = run(connected, "connections", "rotate-keys")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Re-encrypted 1 API key(s) under the new secret key.",
        f"{connected / 'secret.key'} now holds only the new key.",
    ]
