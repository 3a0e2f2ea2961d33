"""The docs describe what the code does: every CLI flag is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperGroup
from typer.main import get_command

from audiencesync.cli import app

ROOT = Path(__file__).parent.parent
DOCS = {
    "emulator": ROOT / "docs" / "emulator.md",
    "init": ROOT / "docs" / "database.md",
    "profiles generate": ROOT / "docs" / "profiles.md",
    "profiles import": ROOT / "docs" / "profiles.md",
    "profiles schema": ROOT / "docs" / "profiles.md",
    "profiles approve": ROOT / "docs" / "profiles.md",
    "profiles discard": ROOT / "docs" / "profiles.md",
    **{
        f"segments {name}": ROOT / "docs" / "segments.md"
        for name in ("create", "edit", "list", "show", "preview", "evaluate", "delete")
    },
    **{
        f"users {name}": ROOT / "docs" / "users.md"
        for name in (
            "add",
            "list",
            "set-role",
            "remove",
            "token",
            "tokens",
            "revoke-token",
            "set-email",
        )
    },
    "audit": ROOT / "docs" / "users.md",
    "exports run": ROOT / "docs" / "runs.md",
    "runs list": ROOT / "docs" / "runs.md",
    "runs show": ROOT / "docs" / "runs.md",
    "runs resume": ROOT / "docs" / "runs.md",
    "runs cancel": ROOT / "docs" / "runs.md",
    "runs approve": ROOT / "docs" / "runs.md",
    "runs discard": ROOT / "docs" / "runs.md",
    "runs rejects": ROOT / "docs" / "runs.md",
    **{
        f"exports {name}": ROOT / "docs" / "exports.md"
        for name in ("add", "edit", "list", "show", "remove", "detach")
    },
    **{
        f"connections {name}": ROOT / "docs" / "connections.md"
        for name in (
            "add",
            "list",
            "show",
            "share",
            "unshare",
            "set-key",
            "authorize",
            "remove",
            "rotate-keys",
        )
    },
    **{
        f"schedule {name}": ROOT / "docs" / "schedule.md"
        for name in ("set", "show", "clear")
    },
    "refresh": ROOT / "docs" / "schedule.md",
    "system": ROOT / "docs" / "schedule.md",
    "serve": ROOT / "docs" / "schedule.md",
    "walkthrough": ROOT / "README.md",
    "quickstart": ROOT / "docs" / "quickstart.md",
}


@pytest.mark.parametrize("command", sorted(DOCS))
def test_every_flag_of_a_command_is_in_its_doc(command: str) -> None:
    """Each long option of the command appears in the page that documents it."""
    click_command = _command(command)
    flags = {
        option
        for param in click_command.params
        for option in param.opts
        if option.startswith("--") and option != "--help"
    }
    text = DOCS[command].read_text(encoding="utf-8")
    assert [flag for flag in sorted(flags) if flag not in text] == []


def _command(path: str) -> Any:
    """The command at ``path``: a top-level name, or "group sub-command"."""
    found = get_command(app)
    for name in path.split():
        assert isinstance(found, TyperGroup)
        found = found.commands[name]
    return found


def test_readme_starts_with_the_two_commands() -> None:
    """The README's first code block is `make demo` then `make test`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines()]
    assert commands == ["make demo", "make test"]


def test_changelog_has_an_unreleased_section() -> None:
    """CHANGELOG.md follows Keep a Changelog."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
