"""A run whose first batch Iterable refuses whole stops with the fix (issue 11, 15)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import EmulatorConfig, ProjectSpec
from audiencesync.emulator.config import DEFAULT_API_KEY, ProjectType
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.records import get_run
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import HEADER, make_place

pytestmark = pytest.mark.socket

USER_ID_PROJECT = EmulatorConfig(
    projects=(ProjectSpec(project_type=ProjectType.USER_ID),),
    rate_limits_enabled=False,
)


def test_a_user_id_project_without_a_user_id_mapping_stops_the_run(
    tmp_path: Path,
) -> None:
    """Every profile refused as not found: Failed (permanent), the fix named."""
    profiles = HEADER + "".join(
        f"P{i:04d},p{i:04d}@example.com,{('FR', 'DE')[i % 2]},free\n"
        for i in range(5000)
    )  # three batches in each segment
    with make_place(tmp_path, profiles=profiles, config=USER_ID_PROJECT) as place:
        with pytest.raises(RunFailedError, match="user ID field"):
            place.run()
        calls = [r for r in place.emulator.requests if r.endpoint == "lists/subscribe"]
        with open_workspace(place.settings) as ws, ws.database.session() as session:
            run = get_run(session, 1)
            status, error = RunStatus.from_code(run.status), run.error or ""
    assert status is RunStatus.FAILED_PERMANENT
    assert "identifies users by userId" in error
    # The segments went together: each stopped at its first batch, none sent more.
    assert sorted(call.items for call in calls) == [1000, 1000]


def test_a_first_batch_refused_for_its_field_types_names_only_the_code(
    tmp_path: Path,
) -> None:
    """Every row's ``plan`` has the wrong type: stopped, Iterable's code named."""
    profiles = HEADER + "".join(
        f"P{i:02d},p{i:02d}@example.com,FR,free\n" for i in range(12)
    )
    with make_place(tmp_path, profiles=profiles) as place:
        answer = httpx.post(
            f"{place.url}/api/users/update",
            json={"email": "seed@example.org", "dataFields": {"plan": 7}},
            headers={"Api-Key": DEFAULT_API_KEY},
        )
        assert answer.status_code == 200
        with pytest.raises(RunFailedError) as raised:
            place.run()
    message = str(raised.value)
    assert "all 12 profiles of the first batch as invalid_data" in message
    assert "(RequestFieldsTypesMismatched)" in message
    assert "the export's field mapping" in message
    assert "`" not in message  # no command: the error is stored and e-mailed
