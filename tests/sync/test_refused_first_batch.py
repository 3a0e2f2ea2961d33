"""A run whose first batch Iterable refuses whole stops with the fix (issue 11, 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiencesync.emulator import EmulatorConfig, ProjectSpec
from audiencesync.emulator.config import ProjectType
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.records import get_run
from audiencesync.sync.statuses import RunStatus
from audiencesync.workspace import open_workspace
from tests.sync.place import make_place

pytestmark = pytest.mark.socket

USER_ID_PROJECT = EmulatorConfig(
    projects=(ProjectSpec(project_type=ProjectType.USER_ID),),
    rate_limits_enabled=False,
)


def test_a_user_id_project_without_a_user_id_mapping_stops_the_run(
    tmp_path: Path,
) -> None:
    """Every profile refused as not found: Failed (permanent), the fix named."""
    with make_place(tmp_path, config=USER_ID_PROJECT) as place:
        with pytest.raises(RunFailedError, match="--user-id-field"):
            place.run()
        calls = [r for r in place.emulator.requests if r.endpoint == "lists/subscribe"]
        with open_workspace(place.settings) as ws, ws.database.session() as session:
            run = get_run(session, 1)
            status, error = RunStatus.from_code(run.status), run.error or ""
    assert status is RunStatus.FAILED_PERMANENT
    assert "identifies users by userId" in error
    assert len(calls) == 1  # France's first batch; Germany was never sent
