"""A segment the engine can no longer evaluate fails alone; the others still sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.errors import EvaluationError
from audiencesync.segments.where import parse_where
from audiencesync.sync.history import list_runs
from audiencesync.sync.runner import RunFailedError
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, GERMANY, HEADER, make_place

# "plan" holds numbers, so CAST(plan AS INTEGER) works when the segment is saved.
NUMERIC = HEADER + (
    "C1,ana@example.com,FR,1\nC3,cleo@example.com,DE,2\nC4,dan@example.com,DE,3\n"
)
# Then the data changes: the cast now fails on a value.
TEXTUAL = HEADER + (
    "C1,ana@example.com,FR,gold\nC3,cleo@example.com,DE,2\nC4,dan@example.com,DE,3\n"
)


def test_a_failing_segment_fails_alone_and_the_run_fails(tmp_path: Path) -> None:
    """Segment A's cast fails on new data: A fails, B syncs, the run says Failed."""
    with make_place(tmp_path, profiles=NUMERIC) as place:
        with open_workspace(place.settings) as workspace:
            workspace.segments.create("Coded", parse_where("cast(plan AS int) > 0"))
            workspace.exports.edit(EXPORT, segments=["Coded", "Germany"])
        place.reimport(TEXTUAL)

        with open_workspace(place.settings) as workspace:
            with pytest.raises(RunFailedError, match="Segment 'Coded' was not synced"):
                run_export(workspace, EXPORT)
            with workspace.database.session() as session:
                [failed] = list_runs(session)

        assert failed.status is RunStatus.FAILED_PERMANENT
        assert "Coded" in (failed.error or "")
        assert "ana@example.com" not in (failed.error or "")
        statuses = {part.segment_name: part.status for part in failed.segments}
        assert statuses == {
            "Coded": RunStatus.FAILED_PERMANENT,
            "Germany": RunStatus.SUCCEEDED,
        }
        germany = next(p for p in failed.segments if p.segment_name == "Germany")
        assert place.emulator.list_members(germany.list_id or 0) == GERMANY


def test_an_export_with_a_broken_segment_is_refused_naming_it(tmp_path: Path) -> None:
    """Adding an export counts its segments: a broken one is named, nothing saved."""
    with make_place(tmp_path, profiles=NUMERIC) as place:
        with open_workspace(place.settings) as workspace:
            workspace.segments.create("Coded", parse_where("cast(plan AS int) > 0"))
        place.reimport(TEXTUAL)

        with open_workspace(place.settings) as workspace:
            with pytest.raises(EvaluationError, match="Segment 'Coded' cannot be"):
                workspace.exports.add(
                    "Second", connection="Iterable", email_field="email",
                    segments=["Germany", "Coded"],
                )  # fmt: skip
            assert [e.name for e in workspace.exports.list_all()] == [EXPORT]
