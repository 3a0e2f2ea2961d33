"""Rejects found before sending: one stored file per content, listed before the rest."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select

from audiencesync.store import RejectFile, RunReject
from audiencesync.sync.checkpoints import Reject, checkpoint
from audiencesync.sync.reject_files import drop_unused, keep_invalid
from audiencesync.sync.reject_list import count_rejects, rejects
from tests.sync.runs.conftest import Place

REFUSED = Reject("refused@example.com", "invalid", "invalidEmails")


def _invalid(path: Path, rows: int) -> Path:
    """An ``invalid.parquet`` as a plan writes it: key, email, reason."""
    table = pa.table({
        "profile_key": [f"K{i:03d}" for i in range(rows)],
        "email": [f"not-an-email-{i}" for i in range(rows)],
        "reason": ["malformed"] * rows,
    })  # fmt: skip
    pq.write_table(table, path)
    return path


def _files(place: Place) -> int:
    with place.database.session() as session:
        return session.scalar(select(func.count()).select_from(RejectFile)) or 0


def test_runs_that_find_the_same_rejects_share_one_file(
    place: Place, tmp_path: Path
) -> None:
    """Two runs, the same invalid profiles: one stored file, both list them."""
    source = _invalid(tmp_path / "invalid.parquet", 3)
    first, second = place.new_run(), place.new_run()
    for run in (first, second):
        with place.database.session() as session:
            assert keep_invalid(session, run.segment, source) == 3
    with place.database.session() as session:
        listed = [list(rejects(session, run.id)) for run in (first, second)]
    assert _files(place) == 1
    assert [len(rows) for rows in listed] == [3, 3]
    assert listed[1][0].profile_key == "K000"
    assert (listed[1][0].bucket, listed[1][0].batch) == ("invalid_in_source", None)


def test_nothing_invalid_stores_no_file(place: Place, tmp_path: Path) -> None:
    """A plan without invalid rows leaves the run segment without a file."""
    run = place.new_run()
    empty = _invalid(tmp_path / "invalid.parquet", 0)
    with place.database.session() as session:
        kept = keep_invalid(session, run.segment, empty)
    assert (kept, _files(place)) == (0, 0)


def test_the_found_rejects_come_before_iterables_refusals(
    place: Place, tmp_path: Path
) -> None:
    """Within a segment: the file's rows, then the batches' rejects."""
    run = place.new_run()
    with place.database.session() as session:
        keep_invalid(session, run.segment, _invalid(tmp_path / "invalid.parquet", 2))
        checkpoint(session, run.segment, 1, "subscribe", 5, rejects=[REFUSED])
    with place.database.session() as session:
        rows = list(rejects(session, run.id))
        total = count_rejects(session, run.id)
    assert [row.identifier for row in rows] == [
        "not-an-email-0", "not-an-email-1", "refused@example.com",
    ]  # fmt: skip
    assert total == 3


def test_a_page_can_start_in_the_file_and_end_in_the_refusals(
    place: Place, tmp_path: Path
) -> None:
    """Offset and limit cross from the stored file into the recorded rows."""
    run = place.new_run()
    with place.database.session() as session:
        keep_invalid(session, run.segment, _invalid(tmp_path / "invalid.parquet", 3))
        checkpoint(session, run.segment, 1, "subscribe", 5, rejects=[REFUSED])
    with place.database.session() as session:
        page = list(rejects(session, run.id, offset=2, limit=2))
    assert [row.identifier for row in page] == [
        "not-an-email-2", "refused@example.com",
    ]  # fmt: skip


def test_rejects_recorded_row_by_row_before_the_files_still_list(
    place: Place,
) -> None:
    """A run from before the files keeps its invalid rows in run_rejects."""
    run = place.new_run()
    with place.database.session() as session:
        session.add(RunReject(
            run_segment_id=run.segment, batch=None, identifier="old-bad",
            profile_key="K9", bucket="invalid_in_source", reason="malformed",
            retryable=False,
        ))  # fmt: skip
    with place.database.session() as session:
        rows = list(rejects(session, run.id))
    assert [(row.identifier, row.profile_key) for row in rows] == [("old-bad", "K9")]


def test_files_no_run_names_are_dropped(place: Place, tmp_path: Path) -> None:
    """Tidying deletes a file once its run segment names another one."""
    run = place.new_run()
    with place.database.session() as session:
        keep_invalid(session, run.segment, _invalid(tmp_path / "a.parquet", 2))
    with place.database.session() as session:
        keep_invalid(session, run.segment, _invalid(tmp_path / "b.parquet", 4))
    with place.database.session() as session:
        dropped = drop_unused(session)
    assert (dropped, _files(place)) == (1, 1)
