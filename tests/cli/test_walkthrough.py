"""``audiencesync walkthrough`` (what ``make demo`` runs) and the CLI's error path."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audiencesync.demo.walkthrough import TourSettings, run_tour


@pytest.mark.anyio
async def test_tour_reports_every_step_with_counts_only() -> None:
    """The tour subscribes, reads back, unsubscribes and shows a refused key."""
    steps: dict[str, str] = {}
    settings = TourSettings(profiles=3_000, leavers=300, subscribe_limit=50)
    await run_tour(steps.__setitem__, settings)
    assert list(steps) == [
        "Emulator",
        "Connect",
        "Create list",
        "Subscribe",
        "Rejects",
        "Read back",
        "Unsubscribe",
        "Field types",
        "Bad key",
    ]
    assert steps["Subscribe"].startswith("2,970 of 3,000 profiles accepted")
    assert steps["Rejects"] == "30 invalid"
    assert "getUsers returns 2,970 members; size says 2,970" in steps["Read back"]
    assert steps["Unsubscribe"].startswith("300 leavers removed")
    assert "@" not in "".join(steps.values())


def test_service_errors_become_one_line_and_exit_code_2() -> None:
    """A ConfigError reaches the user as one 'Error:' line, without a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "audiencesync", "emulator", "--rate", "nonsense"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: ")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
