"""Errors carry a stable code, the input field and the parameters of their fix.

The API returns ``code`` and ``details``; the command line renders the same code
as a command (:mod:`audiencesync.cli.hints`). A few representative raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperGroup
from typer.main import get_command

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.cli import app as cli
from audiencesync.cli.hints import FLAGS, HINTS, error_line, run_hint
from audiencesync.connections.consent import require_agreement
from audiencesync.connections.targets import resolve_target
from audiencesync.connections.verifier import check_key_shape
from audiencesync.errors import AudiencesyncError, ConfigError, NotFoundError
from audiencesync.exports import parse_field_options
from audiencesync.exports.checks import check_removal_brake
from audiencesync.profiles.importing import choose_key
from audiencesync.profiles.service import import_profiles
from audiencesync.scheduling.schedules import check_cron
from audiencesync.segments.rules import parse_where
from audiencesync.settings import load_settings
from audiencesync.sync.lock import RunInProgressError
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.statuses import RunStatus

CUSTOMERS = "customer_id,email,country\nC1,ana@example.com,FR\nC2,ben@example.com,DE\n"
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

Raise = Callable[[Workspace], object]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """An initialised data folder with two customers and a segment named FR."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)
    with open_workspace(settings) as opened:
        opened.segments.create("FR", parse_where("country = 'FR'"))
        yield opened


@pytest.mark.parametrize(
    ("call", "code", "field", "details"),
    [
        (
            lambda w: w.segments.get("Nowhere"),
            "segment_not_found", None, {"name": "Nowhere", "known": True},
        ),
        (
            lambda w: w.exports.get("Nowhere"),
            "export_not_found", None, {"name": "Nowhere", "known": False},
        ),
        (
            lambda w: w.connections.get("Nowhere"),
            "connection_not_found", None, {"name": "Nowhere"},
        ),
        (
            lambda w: w.users.set_role("zoe", "viewer"),
            "user_not_found", None, {"name": "zoe"},
        ),
        (
            lambda w: w.segments.create("fr", parse_where("country = 'DE'")),
            "name_taken", "name", {"kind": "segment", "name": "FR"},
        ),
        (
            lambda w: w.segments.create("DE", parse_where("contry = 'DE'")),
            "unknown_column", "where", {"table": "customers", "column": "contry"},
        ),
    ],
    ids=["segment", "export", "connection", "user", "name taken", "unknown column"],
)  # fmt: skip
def test_service_errors_carry_code_field_and_details(
    workspace: Workspace,
    call: Raise,
    code: str,
    field: str | None,
    details: dict[str, object],
) -> None:
    """What the API answers with: a precise code, the field, the fix's parameters."""
    with pytest.raises(AudiencesyncError) as caught:
        call(workspace)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.details == details


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        (lambda: require_agreement(agreed=False), "consent_required", "i_agree"),
        (lambda: check_key_shape("too short"), "key_malformed", "api_key"),
        (
            lambda: choose_key(["email"], key="email", existing_key="customer_id",
                               source="new.csv", table="customers"),
            "key_mismatch", "key",
        ),
        (lambda: check_removal_brake(150), "invalid", "removal_brake"),
        (lambda: parse_field_options(["ltv"]), "invalid", "fields"),
        (lambda: resolve_target("eu", "http://127.0.0.1:9009"), "invalid", "base_url"),
    ],
    ids=["consent", "key shape", "key mismatch", "brake", "field form", "target"],
)  # fmt: skip
def test_input_errors_name_their_field(
    call: Callable[[], object], code: str, field: str
) -> None:
    """An input error says which input, so a form can mark it."""
    with pytest.raises(AudiencesyncError) as caught:
        call()
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_class_code_is_the_fallback() -> None:
    """A raise without a precise code keeps its class's code."""
    assert NotFoundError("gone").code == "not_found"
    assert ConfigError("bad").code == "invalid"


def test_the_cli_renders_the_command_from_the_code() -> None:
    """The message names no command; the CLI line adds it from code and details."""
    error = RunInProgressError("Weekly", run_id=12, started_at=NOON, expires_at=NOON)
    assert "`" not in str(error)
    assert error_line(error).endswith(
        "Wait for it, or cancel run 12. Cancel it with `audiencesync runs cancel 12`."
    )
    failed = RunFailedError(7, "Iterable refused the API key.")
    assert error_line(failed).endswith("See `audiencesync runs show 7`.")


def test_the_cli_names_the_flag_of_the_field() -> None:
    """An error about an input with a flag shows the flag before the message."""
    error = ConfigError("The seed -1 is out of range.", field="seed")
    assert error_line(error) == "Error: --seed: The seed -1 is out of range."


def test_a_field_without_a_flag_adds_nothing() -> None:
    """``name`` is an argument in some commands: no flag is shown for it."""
    error = ConfigError("An export needs a name.", field="name")
    assert error_line(error) == "Error: An export needs a name."


def test_every_flag_is_an_option_of_the_command_line() -> None:
    """Each flag the CLI adds to an error is one its commands accept."""
    options = {
        name
        for command in _commands(get_command(cli))
        for param in command.params
        for name in param.opts
    }
    assert set(FLAGS.values()) <= options


def _commands(command: Any) -> Iterator[Any]:  # typer's click commands
    yield command
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            yield from _commands(sub)


def test_a_hint_without_its_parameters_leaves_the_message_alone() -> None:
    """A raise site that gave no details still prints its message, nothing else."""
    error = NotFoundError("There is no export named 'X'.", code="export_not_found")
    assert error_line(error) == "Error: There is no export named 'X'."


def test_every_hint_names_an_audiencesync_command_or_flag() -> None:
    """Hints are for the command line: each renders a command or a flag."""
    sample: dict[str, object] = {
        "home": "/h", "name": "N", "kind": "user", "user": "U", "region": "eu",
        "connection": "C", "usable": False, "known": True, "table": "T", "key": "K",
        "run_id": 3,
    }  # fmt: skip
    for code, hint in HINTS.items():
        text = hint(sample)
        assert "audiencesync " in text or "--" in text, code


@pytest.mark.parametrize(
    ("status", "note", "removed", "expected"),
    [
        (RunStatus.HELD, "Removals were held", False, "audiencesync runs approve 5"),
        (RunStatus.HELD, "Superseded by run 6: its", False, None),
        (RunStatus.HELD, "Its export was removed", True, None),
        (RunStatus.INTERRUPTED, "The process stopped", False, "runs resume 5"),
        (RunStatus.SUCCEEDED, None, False, None),
    ],
    ids=["held", "superseded", "export removed", "interrupted", "succeeded"],
)
def test_runs_show_adds_the_command_a_status_calls_for(
    status: RunStatus, note: str | None, removed: bool, expected: str | None
) -> None:
    """Held: approve or discard; stopped: resume; none for a run nobody can act on."""
    hint = run_hint(5, status, note=note, export_removed=removed)
    if expected is None:
        assert hint is None
    else:
        assert hint is not None
        assert expected in hint


def test_a_wrong_export_schedule_gets_no_refresh_schedule_hint() -> None:
    """A cron check's invalid_cron hints no `schedule clear` (that is the refresh's)."""
    with pytest.raises(AudiencesyncError) as caught:
        check_cron("0 25 * * *")
    assert caught.value.code == "invalid_cron"
    assert "schedule clear" not in error_line(caught.value)
