"""A run's event stream waits through the start of a pass the worker claimed."""

from __future__ import annotations

import pytest

from audiencesync.app.progress import RunSample
from audiencesync.sync.statuses import RunStatus
from audiencesync.web.routes import run_events
from audiencesync.web.routes.run_events import _PassStart


def _sample(status: RunStatus, queued: str | None = None) -> RunSample:
    return RunSample(run_id=2, export="Newsletter", status=status, segments=(),
                     queued_action=queued)  # fmt: skip


def test_a_claimed_approval_is_awaited_until_the_status_moves() -> None:
    """Held with an approval queued, then Held with none: the pass is starting."""
    starting = _PassStart()
    assert not starting.awaited(_sample(RunStatus.HELD, queued="approve"))
    assert starting.awaited(_sample(RunStatus.HELD))  # claimed, not yet Running
    assert not starting.awaited(_sample(RunStatus.RUNNING))
    assert not starting.awaited(_sample(RunStatus.SUCCEEDED))


def test_a_stopped_run_with_no_pass_queued_is_not_awaited() -> None:
    """A Held run nobody approved ends the stream at once, as before."""
    assert not _PassStart().awaited(_sample(RunStatus.HELD))


def test_a_pass_that_never_starts_is_awaited_only_so_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the grace, a run still Held (its approval not carried out) ends it."""
    monkeypatch.setattr(run_events, "PASS_START_GRACE_SECONDS", 0.0)
    starting = _PassStart()
    starting.awaited(_sample(RunStatus.HELD, queued="approve"))
    assert not starting.awaited(_sample(RunStatus.HELD))
