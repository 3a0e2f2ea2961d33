"""``audiencesync audit``: administrators read who changed what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.cli.audit import describe_details


def run(home: Path, *args: str) -> Result:
    """Run ``audiencesync ARGS --home HOME``."""
    return CliRunner().invoke(app, [*args, "--home", str(home)])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder where ``admin`` added ``vic`` (a viewer)."""
    folder = tmp_path / "home"
    assert run(folder, "init").exit_code == 0
    assert run(folder, "users", "add", "vic", "--role", "viewer").exit_code == 0
    return folder


def test_audit_json_is_newest_first(home: Path) -> None:
    """``--json`` lists the events, the latest first, with every column."""
    result = run(home, "audit", "--json")
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)
    assert [(e["actor"], e["action"], e["target"]) for e in events] == [
        ("admin", "user.add", "vic"),
        ("init", "user.add", "admin"),
    ]
    assert events[0]["target_type"] == "user"
    assert events[0]["details"] == {"role": "viewer", "has_password": False}
    assert events[0]["at"].endswith("Z")  # ISO 8601 in UTC


def test_audit_limit(home: Path) -> None:
    """``--limit 1`` shows the latest event only."""
    events = json.loads(run(home, "audit", "--limit", "1", "--json").stdout)
    assert [e["target"] for e in events] == ["vic"]


def test_audit_text_has_the_columns(home: Path) -> None:
    """The table's header names at, actor, action, target type, target, details."""
    result = run(home, "audit")
    assert result.exit_code == 0, result.output
    for header in ("At", "Actor", "Action", "Target type", "Target", "Details"):
        assert header in result.stdout
    assert "role=viewer" in result.stdout


def test_audit_is_for_administrators_only(home: Path) -> None:
    """A viewer gets exit 3 and one line saying whom to ask."""
    result = run(home, "audit", "--as", "vic")
    assert result.exit_code == 3
    assert result.stderr == (
        "Error: vic is a viewer and cannot read the audit log."
        " Ask an administrator (admin) if you need this.\n"
    )


def test_details_read_as_one_line() -> None:
    """Booleans print as true/false, pairs joined by commas."""
    assert describe_details({"role": "admin", "has_password": True}) == (
        "role=admin, has_password=true"
    )
