"""One refresh: re-import changed sources, count segments, run refresh exports."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.errors import AccessDeniedError
from audiencesync.scheduling.refresh import SKIPPED, run_refresh
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.lock import acquire, release
from audiencesync.sync.records import create_run
from audiencesync.sync.statuses import RunStatus
from tests.refresh.conftest import CUSTOMERS, Place

pytestmark = pytest.mark.socket

CHANGED = CUSTOMERS + "C4,dora@example.com,FR\nC5,eli@example.com,DE\n"


def change_source(place: Place, text: str) -> None:
    """Rewrite the CSV with a later modification time."""
    place.source.write_text(text, encoding="utf-8")
    stat = place.source.stat()
    os.utime(place.source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_a_changed_source_file_is_reimported(place: Place) -> None:
    """The table becomes the file's content again, and the import is audited."""
    change_source(place, CHANGED)
    with place.workspace() as workspace:
        report = run_refresh(workspace)
    assert [(s.table, s.outcome, s.rows) for s in report.sources] == [
        ("customers", "reimported", 5)
    ]
    assert len(place.audit("profiles.import")) == 1


def test_an_unchanged_source_file_is_left_alone(place: Place) -> None:
    """Same size and modification time: no re-import, no audit event."""
    with place.workspace() as workspace:
        report = run_refresh(workspace)
    assert [s.outcome for s in report.sources] == ["unchanged"]
    assert place.audit("profiles.import") == []


def test_a_missing_source_file_is_reported_and_the_table_kept(place: Place) -> None:
    """A source that is gone is a problem to report, not a reason to stop."""
    place.source.unlink()
    with place.workspace() as workspace:
        report = run_refresh(workspace)
    (source,) = report.sources
    assert (source.outcome, source.rows) == ("missing", 3)
    assert "is gone; the table keeps its rows" in (source.error or "")
    assert report.exports[0].status == RunStatus.SUCCEEDED.value


def test_every_segment_is_counted_and_recorded(place: Place) -> None:
    """Each segment gets a new entry in its count history, on the new data."""
    change_source(place, CHANGED)
    with place.workspace() as workspace:
        report = run_refresh(workspace)
        history = workspace.segments.history("France")
    assert {(s.name, s.members) for s in report.segments} == {
        ("France", 3),
        ("Germany", 2),
        ("Anyone", 5),
    }
    assert history[0].member_count == 3


def test_only_exports_that_follow_the_refresh_run(place: Place) -> None:
    """Newsletter runs with the trigger "refresh"; cron and manual exports do not."""
    with place.workspace() as workspace:
        report = run_refresh(workspace)
    assert [(e.name, e.status) for e in report.exports] == [
        ("Newsletter", RunStatus.SUCCEEDED.value)
    ]
    assert place.runs() == [("Newsletter", "refresh")]
    assert report.ok


def test_one_failing_export_does_not_stop_the_others(place: Place) -> None:
    """A run that fails is reported with its run id and error; the next runs."""
    broken = Emulator(EmulatorConfig(rate_limits_enabled=False))
    with serve_in_thread(broken) as url, place.workspace() as workspace:
        workspace.connections.add(
            "Doomed", api_key=DEFAULT_API_KEY, base_url=url, shared=True, agreed=True
        )
        workspace.exports.add(
            "A first", connection="Doomed", email_field="email", segments=["France"]
        )
    with place.workspace() as workspace:  # the Doomed emulator is down now
        report = run_refresh(workspace)
    first, second = report.exports
    assert first.name == "A first"
    assert first.status.startswith("Failed")  # retrying or permanent: the runner's call
    assert (first.run_id is not None, bool(first.error), first.is_fine) == (
        True,
        True,
        False,
    )
    assert (second.name, second.status) == ("Newsletter", RunStatus.SUCCEEDED.value)
    assert not report.ok


def test_an_export_another_run_holds_is_skipped(place: Place) -> None:
    """A refresh does not wait for a running export: it says so and moves on."""
    with place.workspace() as workspace:
        with workspace.database.session() as session:
            row = find_export(session, "Newsletter")
            run = create_run(session, row.id, trigger="manual", requested_by="admin")
            export_id, run_id = row.id, run.id
        lease = acquire(workspace.database, export_id, run_id, holder="elsewhere:1")
        try:
            report = run_refresh(workspace)
        finally:
            release(workspace.database, lease)
    (export,) = report.exports
    assert (export.status, export.run_id) == (SKIPPED, None)
    assert "is already running" in (export.error or "")


def test_a_contributor_skips_exports_on_admin_only_connections(place: Place) -> None:
    """Exports the acting user may not run are skipped with the reason."""
    with place.workspace() as workspace:
        workspace.connections.set_sharing("Iterable", shared=False)
    with place.workspace("cora") as workspace:
        report = run_refresh(workspace)
    (export,) = report.exports
    assert (export.status, export.run_id) == (SKIPPED, None)
    assert "is for administrators only" in (export.error or "")
    assert place.runs() == []


def test_a_viewer_cannot_refresh(place: Place) -> None:
    """Refreshing runs exports: viewers are refused before anything happens."""
    with (
        place.workspace("vic") as workspace,
        pytest.raises(AccessDeniedError, match="vic is a viewer and cannot run"),
    ):
        run_refresh(workspace)


def test_the_report_spans_the_refresh(place: Place) -> None:
    """started_at and finished_at come from the clock given."""
    times = iter(
        [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 5, tzinfo=UTC)]
    )
    with place.workspace() as workspace:
        report = run_refresh(workspace, now=lambda: next(times))
    assert (report.finished_at - report.started_at).total_seconds() == 300
