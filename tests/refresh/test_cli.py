"""`audiencesync schedule set | show | clear` and `audiencesync refresh` end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from tests.refresh.conftest import Place

pytestmark = pytest.mark.socket


def invoke(place: Place, *args: str) -> Result:
    """Run the CLI on the place's data folder."""
    env = {"AUDIENCESYNC_HOME": str(place.settings.home)}
    if place.settings.database_url:
        env["AUDIENCESYNC_DATABASE_URL"] = place.settings.database_url
    return CliRunner().invoke(app, list(args), env=env)


def test_schedule_set_then_show_as_json(place: Place) -> None:
    """What set stores, show --json prints, with the next run."""
    assert (
        invoke(place, "schedule", "set", "0 6 * * *", "--timezone", "UTC").exit_code
        == 0
    )
    result = invoke(place, "schedule", "show", "--json")
    shown = json.loads(result.stdout)
    assert (shown["cron"], shown["timezone"]) == ("0 6 * * *", "UTC")
    assert shown["next_run"].endswith("T06:00:00Z")


def test_schedule_show_says_when_refresh_is_off(place: Place) -> None:
    """No schedule: the text says so and how to set one."""
    result = invoke(place, "schedule", "show")
    assert result.exit_code == 0
    assert "No refresh schedule is set" in result.stdout


def test_schedule_clear_prints_that_refresh_is_off(place: Place) -> None:
    """After clear, the schedule is off."""
    invoke(place, "schedule", "set", "0 6 * * *")
    result = invoke(place, "schedule", "clear", "--json")
    assert (result.exit_code, json.loads(result.stdout)["cron"]) == (0, None)


def test_a_viewer_is_refused_schedule_set_with_exit_3(place: Place) -> None:
    """Refusals are one line and exit status 3."""
    result = invoke(place, "schedule", "set", "0 6 * * *", "--as", "vic")
    assert result.exit_code == 3
    assert "vic is a viewer and cannot change the refresh schedule" in result.stderr


def test_a_bad_cron_exits_2_naming_the_field(place: Place) -> None:
    """Input errors exit with status 2."""
    result = invoke(place, "schedule", "set", "0 6 * *")
    assert result.exit_code == 2
    assert "has 4 fields" in result.stderr


def test_refresh_json_reports_sources_segments_and_runs(place: Place) -> None:
    """--json prints the report; a good refresh exits 0."""
    result = invoke(place, "refresh", "--json")
    report = json.loads(result.stdout)
    assert (result.exit_code, report["ok"]) == (0, True)
    assert [s["outcome"] for s in report["sources"]] == ["unchanged"]
    assert {s["name"] for s in report["segments"]} == {"France", "Germany", "Anyone"}
    assert [(e["name"], e["status"]) for e in report["exports"]] == [
        ("Newsletter", "Succeeded")
    ]


def test_refresh_exits_1_when_something_went_wrong(place: Place) -> None:
    """A missing source file makes the refresh exit 1 and say why on stderr."""
    place.source.unlink()
    result = invoke(place, "refresh")
    assert result.exit_code == 1
    assert "is gone; the table keeps its rows" in result.stderr
