"""The network fault matrix (reliability plan T05), through a fault proxy.

A whole export (2,500 French members: three subscribe batches) runs in this
process against the emulator on a real port, through the fault proxy of
:mod:`tests.reliability.proxy`. The first subscribe batch goes alone, then
batches 2 and 3 are in flight together; the calls after the first meet a fault:

- once (transient): the run must complete exactly (list == segment);
- on every attempt of both (persistent): the run must stop Failed (retrying),
  with the first batch checkpointed and in the sync state, and the emulator
  holding everything checkpointed; with the fault gone, the next run completes
  exactly.

The product has no setting for the client's timeout and retries: the runner
builds its client with the library defaults (30 s per read, 8 attempts). The
test hands the runner a client with a 3 s timeout and 3 attempts (stamina's
testing mode already drops the backoff sleeps), so a hang costs 3 s an attempt
and 2 s of latency costs time only. Every run is watched from a thread: one
that does not end within 60 s counts as stuck and fails the test instead of
hanging it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from audiencesync.app.workspace import open_workspace
from audiencesync.iterable import IterableClient, RetryPolicy
from audiencesync.store.runs import Binding, RunBatch
from audiencesync.sync import runner
from audiencesync.sync.history import RunInfo
from audiencesync.sync.segment_pass import state_path
from audiencesync.sync.statuses import RunStatus
from tests.reliability.figures import Figures
from tests.reliability.proxy import Fault, FaultProxy, serve_proxy
from tests.sync.place import CROWD, MANY, Place, make_place
from tests.sync.state_rows import state_emails

pytestmark = [pytest.mark.socket, pytest.mark.slow]

ATTEMPTS = 3
FLYING = MANY // 1_000  # batches 2 and 3: in flight together once batch 1 is acked
READ_TIMEOUT = 3.0
STUCK_AFTER = 60.0
MEMBERS = frozenset(f"p{i:05d}@example.com" for i in range(MANY))
FAULTS = {
    "latency +2 s": Fault("delay", seconds=2.0),
    "hang": Fault("hang"),
    "tcp reset": Fault("reset"),
    "truncated body": Fault("truncate"),
    "500": Fault("status", status=500),
    "502": Fault("status", status=502),
    "503": Fault("status", status=503),
    "504": Fault("status", status=504),
}


@pytest.fixture
def proxied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Place, FaultProxy]]:
    """The export's connection goes through a fault proxy; short client timeouts."""
    client = functools.partial(
        IterableClient,
        timeout=httpx.Timeout(READ_TIMEOUT, connect=READ_TIMEOUT),
        retry=RetryPolicy(attempts=ATTEMPTS, timeout=30.0),
    )
    monkeypatch.setattr(runner, "IterableClient", client)
    with make_place(tmp_path, profiles=CROWD) as place, serve_proxy(place.url) as proxy:
        with open_workspace(place.settings) as workspace:
            workspace.connections.set_address("Iterable", base_url=proxy.url)
        yield place, proxy


def _watched(place: Place, within: float = STUCK_AFTER) -> tuple[RunInfo | None, float]:
    """Run the export in a thread; (its info, or None if still running, seconds)."""
    results: list[RunInfo] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: results.append(place.run()), daemon=True)
    thread.start()
    thread.join(timeout=within)
    return (results[0] if results else None), time.monotonic() - started


def _france(place: Place) -> tuple[int, Path, frozenset[int]]:
    """France's list id, its sync state file and its run batches acknowledged."""
    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        binding = next(
            b
            for b in s.query(Binding).all()
            if b.list_id is not None
            and place.emulator.list_members(b.list_id) & MEMBERS
        )
        acked = frozenset(
            b.batch for b in s.query(RunBatch).all() if b.acked_at is not None
        )
        return binding.list_id or 0, state_path(place.settings.home, binding.id), acked


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "every attempt"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_network_fault_costs_retries_never_members(
    proxied: tuple[Place, FaultProxy],
    fault: str,
    persistent: bool,
    reliability_figures: Figures,
) -> None:
    """Each fault after batch 1: exact list, or Failed (retrying), then exact resume."""
    place, proxy = proxied
    proxy.script("lists/subscribe", FAULTS[fault], skip=1,
                 times=ATTEMPTS * FLYING if persistent else 1)  # fmt: skip
    first, seconds = _watched(place)
    if first is None:
        reliability_figures.note("runs stuck", 1)
        pytest.fail(f"the run was stuck after {STUCK_AFTER} s")
    stuck = 0
    if persistent and fault != "latency +2 s":  # every attempt fails: it stops
        assert first.status is RunStatus.FAILED_RETRYING
    list_id, state, acked = _france(place)
    listed = place.emulator.list_members(list_id)
    ahead = len(
        frozenset(state_emails(state)) - listed
    )  # synced but Iterable lacks them
    if first.status is RunStatus.FAILED_RETRYING:
        assert persistent
        assert fault != "latency +2 s"  # slower than usual, within the timeout
        assert 1 in acked  # the first batch's checkpoint is kept
        assert frozenset(state_emails(state)) <= listed
        proxy.clear()
        last, _ = _watched(place)
        stuck += int(last is None)
        assert last is not None
    else:
        last = first
    attempts = proxy.attempts()
    listed = place.emulator.list_members(list_id)
    lost = len(MEMBERS - listed)
    reliability_figures.record(
        lost=lost, synced_without_ack=ahead, wrong_lists=int(listed != MEMBERS)
    )
    tries = sorted(attempts.values())
    reliability_figures.note(
        "attempts per batch (p50/max), runs stuck, first run",
        f"{tries[len(tries) // 2]}/{tries[-1]}, {stuck},"
        f" {first.status.value} in {seconds:.1f} s",
    )
    assert last.status is RunStatus.SUCCEEDED
    assert listed == MEMBERS
    assert ahead == 0
    assert max(attempts.values()) <= (ATTEMPTS + 1 if persistent else 2)
    if not persistent:
        assert first.status is RunStatus.SUCCEEDED
