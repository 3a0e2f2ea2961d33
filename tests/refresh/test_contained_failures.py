"""One export's failure stays its own: the scheduler and the refresh go on."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from audiencesync.app.refresh_schedule import set_refresh_schedule
from audiencesync.app.workspace import Workspace
from audiencesync.profiles.service import import_profiles
from audiencesync.scheduling import scheduler as scheduler_module
from audiencesync.scheduling.scheduler import Scheduler
from audiencesync.segments.where import parse_where
from audiencesync.sync.history import RunInfo
from audiencesync.sync.runner import run_export
from audiencesync.sync.statuses import RunStatus
from tests.refresh.conftest import HOURLY, Place

pytestmark = pytest.mark.socket

NUMERIC = (
    "customer_id,email,country,code\n"
    "C1,ana@example.com,FR,1\nC2,ben@example.com,FR,2\nC3,cleo@example.com,DE,3\n"
)
TEXTUAL = NUMERIC.replace("FR,1", "FR,gold")  # CAST(code AS INT) now fails


def _with_a_breaking_segment(place: Place) -> None:
    """Exports Hourly and Newsletter get a segment whose cast will fail on data.

    Each segment feeds one list, so every export has segments of its own.
    """
    place.source.write_text(NUMERIC, encoding="utf-8")
    import_profiles(place.settings, place.source, replace=True)
    with place.workspace() as workspace:
        for export, own in (("Hourly", "Germany"), ("Newsletter", "France")):
            coded = f"Coded for {export}"
            workspace.segments.create(coded, parse_where("cast(code AS int) > 0"))
            workspace.exports.edit(export, segments=[coded, own])
        for name, schedule in (("Second", HOURLY), ("Later", "refresh")):
            workspace.segments.create(f"For {name}", parse_where("country = 'DE'"))
            workspace.exports.add(
                name,
                connection="Iterable",
                email_field="email",
                segments=[f"For {name}"],
                schedule=schedule,
            )
        set_refresh_schedule(workspace, "15 6 * * *")
    place.source.write_text(TEXTUAL, encoding="utf-8")
    import_profiles(place.settings, place.source, replace=True)


def test_a_failing_segment_leaves_other_exports_and_the_refresh_running(
    place: Place,
) -> None:
    """Hourly's segment breaks: Second still runs, the refresh runs Later too."""
    _with_a_breaking_segment(place)
    moment = place.saved_at("Later") + timedelta(days=1)

    fired = Scheduler(place.settings, now=lambda: moment).tick()

    assert {(f.name, f.outcome) for f in fired} == {
        ("refresh", "refresh with problems"),
        ("Hourly", "failed"),
        ("Second", RunStatus.SUCCEEDED.value),
    }
    assert sorted(place.runs()) == [
        ("Hourly", "scheduled"),
        ("Later", "refresh"),
        ("Newsletter", "refresh"),
        ("Second", "scheduled"),
    ]


def test_an_unexpected_error_in_one_export_is_one_log_line(
    place: Place, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash inside one export is logged by type only; the next export still runs."""

    def breaking(workspace: Workspace, name: str, **options: object) -> RunInfo:
        if name == "Hourly":
            msg = "ana@example.com broke it"
            raise RuntimeError(msg)
        return run_export(workspace, name, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduler_module, "run_export", breaking)
    with place.workspace() as workspace:
        workspace.segments.create("For Second", parse_where("country = 'DE'"))
        workspace.exports.add(
            "Second", connection="Iterable", email_field="email",
            segments=["For Second"], schedule=HOURLY,
        )  # fmt: skip
    moment = place.saved_at("Second") + timedelta(hours=2)
    caplog.set_level(logging.ERROR, logger="audiencesync.scheduling.scheduler")

    fired = Scheduler(place.settings, now=lambda: moment).tick()

    assert {(f.name, f.outcome) for f in fired} == {
        ("Hourly", "failed"),
        ("Second", RunStatus.SUCCEEDED.value),
    }
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "scheduled run of export 'Hourly' failed: unexpected RuntimeError"
    ]
    assert "ana@example.com" not in caplog.text
