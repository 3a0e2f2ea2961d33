"""``audiencesync exports ...`` on the command line: output, --json, --as, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.exports import checks
from audiencesync.profiles import open_engine
from audiencesync.settings import load_settings
from audiencesync.store.database import Database
from tests.exports.conftest import ADMINS_ONLY, SHARED, build_folder, populate

ADD = (
    "exports", "add", "--name", "Newsletter", "--connection", SHARED,
    "--email-field", "email", "--segment", "France", "--segment", "Germany",
)  # fmt: skip


def run(home: Path, *args: str) -> Result:
    """Run the CLI on ``home``, on a terminal wide enough for whole table cells."""
    return CliRunner().invoke(app, [*args, "--home", str(home)], env={"COLUMNS": "200"})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder with customers, segments, users and two connections."""
    settings = load_settings(home=tmp_path / "home")
    build_folder(settings, tmp_path)
    engine = open_engine(settings)
    try:
        with Database.open(settings.database) as database:
            populate(database, engine)
    finally:
        engine.close()
    return settings.home


def test_add_prints_counts_and_next_run(home: Path) -> None:
    """``add`` says it saved without sending, with each segment's count."""
    result = run(home, *ADD)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Saved export 'Newsletter' on 'Iterable shared'; nothing was sent (saving"
        " never runs an export).",
        "  France: 2 members",
        "  Germany: 1 member",
        "Next run: with each refresh (no refresh schedule set)",
    ]


def test_add_json_has_the_setup_counts_and_warnings(home: Path) -> None:
    """``add --json`` carries every setting, the counts and the warnings."""
    result = run(
        home, *ADD, "--user-id-field", "crm_id", "--field", "ltv=lifetime_value",
        "--schedule", "0 9 * * 1", "--timezone", "Europe/Paris", "--mode",
        "add-only", "--removal-brake", "40", "--consent-column", "marketing_consent",
        "--json",
    )  # fmt: skip
    created = json.loads(result.stdout)
    assert created["member_counts"] == {"France": 2, "Germany": 1}
    assert created["warnings"] == []
    assert created["fields"] == {"ltv": "lifetime_value"}
    assert (created["schedule"], created["timezone"]) == ("0 9 * * 1", "Europe/Paris")
    assert (created["mode"], created["removal_brake"]) == ("add-only", 40)
    assert (created["user_id_field"], created["consent_column"]) == (
        "crm_id",
        "marketing_consent",
    )


def test_add_prints_warnings_on_stderr(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large segment's warning goes to stderr; the export is still saved."""
    monkeypatch.setattr(checks, "LARGE_SEGMENT", 1)
    result = run(home, *ADD)
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: Segment 'France' has 2 members: the first export sends them all;"
        " at Iterable's limits that takes about 1 minute.\n"
    )


def test_list_shows_each_export(home: Path) -> None:
    """``list`` shows connection, segments, schedule, next run and last run."""
    run(home, *ADD, "--schedule", "manual")
    result = run(home, "exports", "list")
    assert result.exit_code == 0
    for text in ("Newsletter", SHARED, "France, Germany", "manual only", "none yet"):
        assert text in result.stdout


def test_list_when_there_are_none(home: Path) -> None:
    """An empty list says how to add an export."""
    assert "No exports yet" in run(home, "exports", "list").stdout


def test_list_json_shows_detached_exports_as_inactive(home: Path) -> None:
    """After ``detach``, ``list --json`` has no connection and inactive."""
    run(home, *ADD)
    detached = run(home, "exports", "detach", "Newsletter")
    assert detached.stdout == (
        "Detached export 'Newsletter' from 'Iterable shared': it is inactive and"
        ' shows "No connection".\n'
    )
    [export] = json.loads(run(home, "exports", "list", "--json").stdout)
    assert (export["connection"], export["active"], export["next_run_text"]) == (
        None,
        False,
        "inactive: no connection",
    )
    assert "No connection" in run(home, "exports", "list").stdout


def test_show_prints_the_setup(home: Path) -> None:
    """``show`` prints one line per setting."""
    run(home, *ADD, "--field", "ltv=lifetime_value")
    result = run(home, "exports", "show", "newsletter")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Newsletter"
    assert "Connection: Iterable shared (shared with contributors)" in lines
    assert "Extra fields: ltv = lifetime_value" in lines
    assert "Removal brake: 20 %" in lines


def test_show_json(home: Path) -> None:
    """``show --json`` is the same object ``list --json`` holds."""
    run(home, *ADD)
    shown = json.loads(run(home, "exports", "show", "Newsletter", "--json").stdout)
    assert [shown] == json.loads(run(home, "exports", "list", "--json").stdout)


def test_remove(home: Path) -> None:
    """``remove`` deletes the export and says so."""
    run(home, *ADD)
    assert run(home, "exports", "remove", "newsletter").stdout == (
        "Removed export 'Newsletter'.\n"
    )
    assert json.loads(run(home, "exports", "list", "--json").stdout) == []


def test_remove_json(home: Path) -> None:
    """``remove --json`` names what was removed."""
    run(home, *ADD)
    result = run(home, "exports", "remove", "Newsletter", "--json")
    assert json.loads(result.stdout) == {"name": "Newsletter", "removed": True}


def test_detach_json(home: Path) -> None:
    """``detach --json`` prints the export, now inactive."""
    run(home, *ADD)
    detached = json.loads(run(home, "exports", "detach", "Newsletter", "--json").stdout)
    assert (detached["name"], detached["active"]) == ("Newsletter", False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--field", "ltv"], "--field: The field mapping 'ltv' is not ITERABLE_"),
        (["--field", "emailListIds=country"], "Iterable manages 'emailListIds'"),
        (["--schedule", "0 9 * *"], "has 4 fields; a cron schedule has 5"),
        (["--timezone", "Paris"], "Unknown time zone 'Paris'"),
        (["--removal-brake", "120"], "--removal-brake: The removal brake 120 is out"),
        (["--connection", "Nowhere"], "There is no connection named 'Nowhere'"),
    ],
    ids=["field form", "reserved field", "cron", "time zone", "brake", "connection"],
)
def test_bad_input_is_one_error_line_and_exit_2(
    home: Path, args: list[str], message: str
) -> None:
    """Each input mistake is one ``Error:`` line on stderr, exit code 2."""
    result = run(home, *ADD, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_error_about_a_setting_names_its_flag(home: Path) -> None:
    """The message names the setting in words; the CLI puts its flag first."""
    result = run(home, *ADD, "--removal-brake", "150")
    assert result.stderr == (
        "Error: --removal-brake: The removal brake 150 is out of range: give a"
        " percentage from 0 (hold every removal for approval) to 100 (hold only"
        " when a segment empties or fails); the default is 20.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [*ADD[:5], ADMINS_ONLY, *ADD[6:], "--as", "cora"],
            "Connection 'Iterable admins' is for administrators only, so cora cannot",
        ),
        ([*ADD, "--as", "vic"], "vic is a viewer and cannot create, edit or remove"),
    ],
    ids=["contributor on admins-only", "viewer"],
)
def test_access_denied_exits_3(home: Path, args: list[str], message: str) -> None:
    """A refused change is one ``Error:`` line and exit code 3."""
    result = run(home, *args)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_contributor_adds_on_a_shared_connection(home: Path) -> None:
    """``--as cora`` on a shared connection succeeds."""
    assert run(home, *ADD, "--as", "cora").exit_code == 0


@pytest.mark.parametrize("command", ["remove", "detach"])
def test_a_viewer_cannot_remove_or_detach(home: Path, command: str) -> None:
    """Viewers read exports but cannot change them."""
    run(home, *ADD)
    assert run(home, "exports", "show", "Newsletter", "--as", "vic").exit_code == 0
    result = run(home, "exports", command, "Newsletter", "--as", "vic")
    assert result.exit_code == 3


def test_show_an_unknown_export_exits_2(home: Path) -> None:
    """A misspelt name suggests the closest one."""
    run(home, *ADD)
    result = run(home, "exports", "show", "Newsleter")
    assert result.exit_code == 2
    assert "Did you mean 'Newsletter'?" in result.stderr


def test_edit_changes_only_the_options_given(home: Path) -> None:
    """``edit --schedule --mode`` keeps the segments and mapping as they were."""
    run(home, *ADD, "--field", "ltv=lifetime_value")
    result = run(
        home, "exports", "edit", "Newsletter", "--schedule", "manual", "--mode",
        "add-only", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    edited = json.loads(result.stdout)
    assert (edited["schedule"], edited["mode"]) == ("manual", "add-only")
    assert edited["segments"] == ["France", "Germany"]
    assert edited["fields"] == {"ltv": "lifetime_value"}


def test_edit_clear_flags_remove_optional_mappings(home: Path) -> None:
    """``--clear-fields`` and ``--clear-consent-column`` empty those settings."""
    run(home, *ADD, "--field", "ltv=lifetime_value", "--consent-column",
        "marketing_consent")  # fmt: skip
    result = run(
        home, "exports", "edit", "Newsletter", "--clear-fields",
        "--clear-consent-column", "--json",
    )  # fmt: skip
    edited = json.loads(result.stdout)
    assert (edited["fields"], edited["consent_column"]) == ({}, None)


def test_edit_refuses_a_value_and_its_clear_flag(home: Path) -> None:
    """Setting and clearing the same mapping at once is a usage error."""
    run(home, *ADD)
    result = run(
        home, "exports", "edit", "Newsletter", "--field", "ltv=lifetime_value",
        "--clear-fields",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == "Error: Give either --field or --clear-fields, not both.\n"


def test_edit_new_segments_show_their_counts(home: Path) -> None:
    """Replacing the segments prints their member counts again."""
    run(home, *ADD)
    result = run(home, "exports", "edit", "Newsletter", "--segment", "Germany")
    assert "  Germany: 1 member" in result.stdout.splitlines()
