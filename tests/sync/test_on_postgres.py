"""The sync engine with its control plane on PostgreSQL: runs, refusals, the lock.

The same engine as on SQLite; these runs check what differs by database: the
Core checkpoint and heartbeat statements, the ORM path of a refused batch, the
lock taken by compare-and-set, and a resumed run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.running import resume_run
from audiencesync.app.workspace import open_workspace
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import (
    CROWD,
    FRANCE,
    GERMANY,
    MANY,
    SECOND,
    Place,
    make_place,
)

pytestmark = pytest.mark.socket


@pytest.fixture
def pg_place(tmp_path: Path, postgres_url: str) -> Iterator[Place]:
    """The runner's place with the control plane on PostgreSQL."""
    with make_place(tmp_path, database_url=postgres_url) as made:
        yield made


def test_runs_fill_the_lists_then_send_only_changes(pg_place: Place) -> None:
    """A first run fills each list exactly; the next sends only what changed."""
    first = pg_place.run()
    assert pg_place.members(first) == {"France": FRANCE, "Germany": GERMANY}
    pg_place.reimport(SECOND)
    pg_place.emulator.reset_requests()

    second = pg_place.run()

    assert pg_place.sent_items() == {"lists/subscribe": 3, "lists/unsubscribe": 1}
    assert second.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert pg_place.members(second)["Germany"] == GERMANY | {"ben@example.com"}


def test_a_forgotten_user_is_a_final_reject(pg_place: Place) -> None:
    """A refused batch takes the ORM checkpoint path; the user is never sent again."""
    pg_place.forget("eve@example.com")
    first = pg_place.run()
    pg_place.emulator.reset_requests()

    again = pg_place.run()

    france = next(p for p in first.segments if p.segment_name == "France")
    assert france.rejected == {"forgotten": 1}
    assert pg_place.sent_items() == {}
    assert again.status is RunStatus.SUCCEEDED_WITH_REJECTS


def test_a_second_simultaneous_run_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    """While a run sends, another run of the export is refused by the lock."""
    with make_place(tmp_path, profiles=CROWD, database_url=postgres_url) as place:
        run = place.run_while_another_tries()

    assert run.status is RunStatus.SUCCEEDED
    assert sum(part.added for part in run.segments) == MANY


def test_a_crashed_run_resumes_from_its_checkpoints(
    tmp_path: Path, postgres_url: str
) -> None:
    """Killed after one batch, the run resumes and sends only what was not acked."""
    with make_place(tmp_path, profiles=CROWD, database_url=postgres_url) as place:
        place.crash_after_first_batch()
        place.emulator.reset_requests()
        with open_workspace(place.settings) as workspace:
            resumed = resume_run(workspace, 1)

        assert resumed.status is RunStatus.SUCCEEDED
        assert place.sent_items() == {"lists/subscribe": MANY - 1000}
        [france] = [p for p in resumed.segments if p.segment_name == "France"]
        assert france.added == MANY
