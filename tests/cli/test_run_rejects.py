"""``runs rejects``: every profile a run could not deliver, by bucket, and retries."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.emulator import (
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    ProjectSpec,
    serve_in_thread,
)
from audiencesync.emulator.config import ProjectType
from tests.canary import CANARY_API_KEY

pytestmark = pytest.mark.socket

LONG_ID = "U" * 60  # Iterable takes userIds of at most 52 characters
CUSTOMERS = f"""customer_id,email,uid,country
C1,ana@example.com,U1,FR
C2,not-an-email,U2,FR
C3,Ana@Example.com,U3,FR
C4,gone@example.com,U4,FR
C5,clash@example.com,U5,FR
C6,long@example.com,{LONG_ID},FR
"""
KEY_VARIABLE = "REJECTS_TEST_ITERABLE_KEY"


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """A hybrid project where one user is forgotten and two users collide."""
    config = EmulatorConfig(
        projects=(ProjectSpec(project_type=ProjectType.HYBRID),),
        keys=(ApiKeySpec(CANARY_API_KEY),),
        rate_limits_enabled=False,
    )
    served = Emulator(config)
    with serve_in_thread(served) as url:
        for path, body in (
            ("users/update", {"email": "gone@example.com"}),
            ("users/forget", {"email": "gone@example.com"}),
            ("users/update", {"email": "clash@example.com", "userId": "OTHER"}),
            ("users/update", {"email": "someone@example.com", "userId": "U5"}),
        ):
            answer = httpx.post(f"{url}/api/{path}", json=body,
                                headers={"Api-Key": CANARY_API_KEY})  # fmt: skip
            assert answer.status_code == 200, answer.text
        yield served, url


def _cli(home: Path, *args: str) -> Result:
    env = {"AUDIENCESYNC_HOME": str(home), KEY_VARIABLE: CANARY_API_KEY,
           "COLUMNS": "200"}  # fmt: skip
    return CliRunner().invoke(app, list(args), env=env)


def _ok(home: Path, *args: str) -> Result:
    result = _cli(home, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def home(tmp_path: Path, emulator: tuple[Emulator, str]) -> Path:
    """Profiles, a segment, a connection and an export sending userIds too."""
    folder = tmp_path / "home"
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    _ok(folder, "init")
    _ok(folder, "users", "add", "victor", "--role", "viewer")
    _ok(folder, "profiles", "import", str(source))
    _ok(folder, "segments", "create", "France", "--where", "country = 'FR'")
    _ok(folder, "connections", "add", "--name", "Iterable", "--api-key-env",
        KEY_VARIABLE, "--base-url", emulator[1], "--i-agree")  # fmt: skip
    _ok(folder, "exports", "add", "--name", "Newsletter", "--connection", "Iterable",
        "--email-field", "email", "--user-id-field", "uid",
        "--segment", "France")  # fmt: skip
    return folder


def _sent(emulator: Emulator) -> int:
    return sum(r.items for r in emulator.requests if r.endpoint == "lists/subscribe")


def test_each_reject_lands_in_its_bucket(home: Path) -> None:
    """Malformed and duplicate in source; invalid, forgotten, conflict by Iterable."""
    run = json.loads(_cli(home, "exports", "run", "Newsletter", "--json").stdout)
    [segment] = run["segments"]
    assert run["status"] == "Succeeded with rejects"
    assert segment["added"] == 1
    assert segment["invalid_in_source"] == 2
    assert segment["rejected"] == {"forgotten": 1, "conflict": 1, "invalid": 1}


def test_the_csv_lists_every_reject_with_its_reason(home: Path, tmp_path: Path) -> None:
    """``runs rejects --csv``: one row per profile, owner-only file."""
    _cli(home, "exports", "run", "Newsletter")
    target = tmp_path / "rejects.csv"

    said = _ok(home, "runs", "rejects", "1", "--csv", str(target)).stdout

    assert "Wrote 5 rejects" in said
    assert target.stat().st_mode & 0o777 == 0o600
    with target.open(encoding="utf-8", newline="") as handle:
        rows = sorted((r["identifier"], r["bucket"], r["retryable"])
                      for r in csv.DictReader(handle))  # fmt: skip
    assert rows == [
        ("Ana@Example.com", "invalid_in_source", "no"),  # as the source holds it
        ("clash@example.com", "conflict", "yes"),
        ("gone@example.com", "forgotten", "no"),
        ("long@example.com", "invalid", "yes"),
        ("not-an-email", "invalid_in_source", "no"),
    ]


def test_the_next_run_retries_only_the_retryable(
    home: Path, emulator: tuple[Emulator, str]
) -> None:
    """Run 2 sends the conflict and the invalid again, never the forgotten."""
    _cli(home, "exports", "run", "Newsletter")
    emulator[0].reset_requests()

    run = json.loads(_cli(home, "exports", "run", "Newsletter", "--json").stdout)

    assert _sent(emulator[0]) == 2
    assert run["segments"][0]["rejected"] == {"conflict": 1, "invalid": 1}


def test_viewers_may_not_read_rejects(home: Path) -> None:
    """The report holds e-mail addresses: viewers are refused."""
    _cli(home, "exports", "run", "Newsletter")

    result = _cli(home, "runs", "rejects", "1", "--as", "victor")

    assert result.exit_code == 3
    assert "viewer" in result.stderr
    assert "@" not in result.stderr


def test_rejects_on_a_terminal_are_counted_by_bucket(home: Path) -> None:
    """Without --csv: a count per bucket and the rows."""
    _cli(home, "exports", "run", "Newsletter")

    said = _ok(home, "runs", "rejects", "1").stdout

    assert "Run 1: 5 rejects" in said
    assert "forgotten 1" in said


def test_every_reject_names_its_profile_and_says_why(
    home: Path, tmp_path: Path
) -> None:
    """CSV and JSON: each reject has its profile key and a non-empty reason."""
    _cli(home, "exports", "run", "Newsletter")
    target = tmp_path / "rejects.csv"
    _ok(home, "runs", "rejects", "1", "--csv", str(target))
    as_json = json.loads(_ok(home, "runs", "rejects", "1", "--json").stdout)

    with target.open(encoding="utf-8", newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    for rows in (from_csv, as_json):
        keys = {(r["profile_key"], r["bucket"]) for r in rows}
        assert keys == {
            ("C2", "invalid_in_source"), ("C3", "invalid_in_source"),
            ("C4", "forgotten"), ("C5", "conflict"), ("C6", "invalid"),
        }  # fmt: skip
        assert all(r["reason"] for r in rows)
    reasons = {r["bucket"]: r["reason"] for r in as_json}
    assert reasons["forgotten"].startswith("failedUpdates.forgottenEmails: ")
    assert reasons["invalid"].startswith("failedUpdates.invalidUserIds: ")
