"""The export lock: one run per export, across threads, processes and machines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from audiencesync.errors import ConflictError
from audiencesync.sync import lock, records
from audiencesync.sync.lock import LeaseLostError, RunInProgressError
from tests.sync.runs.conftest import Place

T0 = datetime(2026, 3, 1, 10, 2, tzinfo=UTC)
LEASE = timedelta(minutes=2)
RACERS = 6
ROUNDS = 4


def take(
    place: Place, run_id: int, *, holder: str = "a:1", at: datetime = T0
) -> lock.Lease:
    """Acquire the export for ``run_id`` at ``at``."""
    return lock.acquire(
        place.database, place.export_id, run_id, holder=holder, lease=LEASE, now=at
    )


def started_run(place: Place) -> int:
    """A run that started at T0."""
    run = place.new_run()
    with place.database.session() as session:
        records.start(session, run.id, now=T0)
    return run.id


def test_a_free_export_is_taken(place: Place) -> None:
    """The first acquirer gets a lease ending after the lease duration."""
    lease = take(place, started_run(place))
    assert lease.expires_at == T0 + LEASE


def test_a_held_export_is_refused_naming_the_run(place: Place) -> None:
    """A second run is refused with the running run, its start and the fix."""
    first, second = started_run(place), place.new_run().id
    take(place, first)
    with pytest.raises(RunInProgressError) as caught:
        take(place, second, holder="b:2", at=T0 + timedelta(seconds=30))
    assert str(caught.value) == (
        f"Export 'Newsletter' is already running (run {first}, started"
        " 2026-03-01 10:02 UTC; its lock expires at 10:04:00 UTC unless renewed)."
        f" Wait for it, or cancel run {first}."
    )
    assert isinstance(caught.value, ConflictError)
    assert caught.value.run_id == first


def test_an_expired_lease_is_taken_over(place: Place) -> None:
    """When the holder died, its lease expires and a new run gets the export."""
    take(place, started_run(place))
    second = place.new_run().id
    lease = take(place, second, holder="b:2", at=T0 + LEASE)
    assert (lease.run_id, lease.holder) == (second, "b:2")


def test_renew_extends_the_lease(place: Place) -> None:
    """After a renewal the export stays held past the first expiry."""
    lease = take(place, started_run(place))
    renewed = lock.renew(place.database, lease, now=T0 + LEASE / 2)
    assert renewed.expires_at == T0 + LEASE * 3 / 2
    with pytest.raises(RunInProgressError):
        take(place, place.new_run().id, holder="b:2", at=T0 + LEASE)


def test_a_lease_taken_over_cannot_be_renewed(place: Place) -> None:
    """The old holder learns that it lost the export and must stop."""
    lease = take(place, started_run(place))
    take(place, place.new_run().id, holder="b:2", at=T0 + LEASE)
    with pytest.raises(LeaseLostError, match=f"Run {lease.run_id} lost the lock"):
        lock.renew(place.database, lease, now=T0 + LEASE)


def test_release_frees_the_export(place: Place) -> None:
    """After release another run takes the export at once."""
    lease = take(place, started_run(place))
    lock.release(place.database, lease)
    assert take(place, place.new_run().id, holder="b:2").holder == "b:2"


def test_releasing_a_lost_lease_keeps_the_new_holder(place: Place) -> None:
    """A late release by the old holder does not free the new holder's lock."""
    lease = take(place, started_run(place))
    take(place, place.new_run().id, holder="b:2", at=T0 + LEASE)
    lock.release(place.database, lease)
    with pytest.raises(RunInProgressError):
        take(place, place.new_run().id, holder="c:3", at=T0 + LEASE)


def test_the_holder_names_host_process_and_process_table() -> None:
    """this_process() is host:pid:space, the space naming boot and pid namespace."""
    host, pid, space = lock.this_process().split(":")
    assert (host, pid) == (socket.gethostname(), str(os.getpid()))
    assert len(space) == 12


def test_a_dead_process_of_this_process_table_is_known_dead() -> None:
    """A pid that no longer runs here is dead when its holder names this table."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert lock.holder_is_dead(lock.holder_of(gone.pid))


def test_a_holder_of_another_process_table_is_never_known_dead() -> None:
    """Same hostname, other boot or namespace (a container): its lease must expire."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    elsewhere = f"{socket.gethostname()}:{gone.pid}:0123456789ab"
    legacy = f"{socket.gethostname()}:{gone.pid}"
    assert not lock.holder_is_dead(elsewhere)
    assert not lock.holder_is_dead(legacy)


def race(place: Place, run_ids: list[int], *, at: datetime) -> list[int]:
    """Let each run try to acquire at the same instant; return the winners."""
    barrier = threading.Barrier(len(run_ids))
    winners: list[int] = []
    failures: list[BaseException] = []

    def attempt(run_id: int) -> None:
        barrier.wait()
        try:
            take(place, run_id, holder=f"host:{run_id}", at=at)
        except RunInProgressError:
            return
        except BaseException as exc:  # reported by the test thread, not lost
            failures.append(exc)
            return
        winners.append(run_id)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    return winners


def test_racing_acquirers_exactly_one_wins(place: Place) -> None:
    """Simultaneous acquirers of a free or expired export: exactly one wins."""
    for round_number in range(ROUNDS):
        run_ids = [place.new_run().id for _ in range(RACERS)]
        at = T0 + LEASE * 2 * round_number  # every earlier lease has expired
        winners = race(place, run_ids, at=at)
        assert len(winners) == 1, f"round {round_number}: {winners}"
