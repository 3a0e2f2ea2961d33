"""The checkpoint is never ahead of the acknowledgement (reliability plan T02).

An export of 2,500 French members (three subscribe batches of 1,000) runs in a
child process and is killed with SIGKILL at each step boundary of a batch, then
run again (a plain ``audiencesync exports run``: it finds the run Interrupted
and continues it). Right after each kill, nothing recorded as synced may be
missing from the emulator: every row of every batch checkpointed as
acknowledged, and every row of the sync state, must be on the list (or refused
by Iterable as a reject). After the resume the list equals the segment.

How each boundary is reached:

- before send and after send / before the response: from outside, by the
  fault proxy in front of the emulator. It holds the second subscribe request
  (not forwarded; or forwarded, applied by the emulator, its answer held), the
  test sees it held and kills the unmodified CLI;
- after the 2xx / before the checkpoint, after the checkpoint write, and during
  the state commit (both ways it is committed): these lie between two lines of
  one process, so the child runs the CLI through :mod:`tests.reliability.killer`,
  which SIGKILLs its own process at that line.

The state commit is reached twice: after a clean run (the state prepared during
the sends is about to be moved in) and after a run with a reject (one member
forgotten in Iterable, so the state is rewritten: killed once its temporary
file is written, before it replaces the old one).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from audiencesync.app.workspace import open_workspace
from audiencesync.iterable.client import MAX_IN_FLIGHT
from audiencesync.profiles.identifiers import quote_literal
from audiencesync.store.runs import Binding, RunBatch, RunReject, RunSegment
from audiencesync.sync.segment_pass import state_path
from audiencesync.sync.statuses import RunStatus
from tests.reliability.figures import Figures
from tests.reliability.proxy import Fault, FaultProxy, serve_proxy
from tests.sync.place import CROWD, EXPORT, MANY, Place, make_place
from tests.sync.state_rows import state_emails

pytestmark = [pytest.mark.socket, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds any child may take before the test gives up
BATCH = 1_000
MEMBERS = frozenset(f"p{i:05d}@example.com" for i in range(MANY))
FORGOTTEN = "p01500@example.com"  # in the second batch
LEAVERS = frozenset(f"p{i:05d}@example.com" for i in range(1_200))  # 48 %: not held
CROWD_WITHOUT_LEAVERS = "".join(
    line
    for line in CROWD.splitlines(keepends=True)
    if line.split(",")[1] not in LEAVERS
)


@dataclass(frozen=True, slots=True)
class Boundary:
    """Where the child dies, and how it is made to."""

    proxy: str | None = None  # a proxy fault on the second subscribe call
    point: str | None = None  # a kill switch of tests.reliability.killer
    batch: int = 2
    reject: bool = False  # one member forgotten in Iterable first
    removals: bool = False  # a removal-only run: LEAVERS leave after a first run

    @property
    def endpoint(self) -> str:
        """The bulk endpoint whose calls the proxy holds."""
        return "lists/unsubscribe" if self.removals else "lists/subscribe"


BOUNDARIES = {
    "before send": Boundary(proxy="park"),
    "after send, before the response": Boundary(proxy="park_after"),
    "after the 2xx, before the checkpoint": Boundary(point="before-checkpoint"),
    "after the checkpoint write": Boundary(point="after-checkpoint"),
    "after the last checkpoint write": Boundary(point="after-checkpoint", batch=3),
    "during the state commit (prepared)": Boundary(point="state-commit"),
    "during the state commit (rewrite)": Boundary(point="state-commit", reject=True),
    "removals: after send, before the response": Boundary(
        proxy="park_after", removals=True
    ),
    "removals: after the 2xx, before the checkpoint": Boundary(
        point="before-checkpoint", batch=1, removals=True
    ),
    "removals: during the state commit": Boundary(point="state-commit", removals=True),
}


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Place, FaultProxy]]:
    """2,500 French members; the export's connection goes through a fault proxy."""
    with make_place(tmp_path, profiles=CROWD) as place, serve_proxy(place.url) as proxy:
        with open_workspace(place.settings) as workspace:
            workspace.connections.set_address("Iterable", base_url=proxy.url)
        yield place, proxy


def _env(place: Place) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env["AUDIENCESYNC_HOME"] = str(place.settings.home)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    return env


def _child(place: Place, boundary: Boundary, log: Path) -> subprocess.Popen[bytes]:
    run = ["exports", "run", EXPORT]
    if boundary.point is None:
        command = [sys.executable, "-m", "audiencesync", *run]
    else:
        command = [sys.executable, "-m", "tests.reliability.killer",
                   boundary.point, str(boundary.batch), "--", *run]  # fmt: skip
    with log.open("wb") as errors:
        return subprocess.Popen(  # noqa: S603 -- our own CLI, fixed arguments
            command, env=_env(place), cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=errors,
        )  # fmt: skip


def _crash(place: Place, proxy: FaultProxy, boundary: Boundary) -> str:
    """Start the export, have it die with SIGKILL at ``boundary``; its stderr."""
    if boundary.proxy is not None:
        skip = 0 if boundary.removals else 1  # the second call, the first removal
        proxy.script(boundary.endpoint, Fault(boundary.proxy), skip=skip)
    log = Path(place.settings.home).parent / "child.stderr"
    child = _child(place, boundary, log)
    try:
        if boundary.proxy is not None:
            deadline = time.monotonic() + WAIT
            while not proxy.parked.wait(0.05):
                assert child.poll() is None, "the export ended before the boundary"
                assert time.monotonic() < deadline, "the export never got there"
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=WAIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = log.read_text(encoding="utf-8", errors="replace")
    assert child.returncode == -signal.SIGKILL, stderr  # it died at the boundary
    proxy.clear()
    return stderr


def _resume(place: Place) -> tuple[dict[str, object], str]:
    """Run the export again, to its end: its JSON answer and its stderr."""
    done = subprocess.run(  # noqa: S603 -- our own CLI, fixed arguments
        [sys.executable, "-m", "audiencesync", "exports", "run", EXPORT, "--json"],
        env=_env(place), cwd=ROOT, capture_output=True, text=True, timeout=WAIT,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer, done.stderr


def _emails(path: Path, where: str = "true") -> frozenset[str]:
    if not path.exists():
        return frozenset()
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT email FROM read_parquet({quote_literal(str(path))})"  # noqa: S608
            f" WHERE {where}"
        ).fetchall()
    return frozenset(str(row[0]) for row in rows)


@dataclass(frozen=True, slots=True)
class Synced:
    """What the control plane and the sync state say Iterable holds for France.

    The batches are those of the binding's newest run segment (the one a kill
    stopped): the runs before it ended well and their batches are in the state.
    """

    list_id: int
    subscribed: frozenset[str]  # rows of subscribe batches recorded as acknowledged
    unsubscribed: frozenset[str]  # rows of unsubscribe batches recorded so
    rejected: frozenset[str]  # rows Iterable refused inside acknowledged batches
    pending: frozenset[str]  # rows of batches not acknowledged (sent or not)
    state: frozenset[str]

    def recorded(self) -> frozenset[str]:
        """The members the records claim: the state with the acked batches applied.

        That is what the next commit of the state writes (a kill can come
        between a checkpoint and the commit; the commit is idempotent).
        """
        removed = self.unsubscribed - self.rejected
        return (self.state - removed) | (self.subscribed - self.rejected)

    def ahead_of(self, listed: frozenset[str]) -> int:
        """Rows recorded as synced, added or removed, that Iterable contradicts.

        Rows of batches not acknowledged may be either way: a kill after the
        send leaves them applied by Iterable but not recorded.
        """
        recorded = self.recorded()
        return len(recorded - listed - self.pending) + len(
            listed - recorded - self.pending
        )


def _rows(
    plan: Path, action: str, acked: list[int], *, acknowledged: bool
) -> frozenset[str]:
    """The plan's ``action`` rows in (or not in) the ``acked`` batches."""
    numbers = ", ".join(str(int(n)) for n in acked)
    inside = f"batch IN ({numbers})" if numbers else "false"
    test = inside if acknowledged else f"NOT ({inside})"
    return _emails(plan, f"action = '{action}' AND {test}")


def _synced(place: Place) -> Synced:
    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        binding = s.scalars(select(Binding).where(Binding.list_name == "France")).one()
        part = s.scalars(
            select(RunSegment)
            .where(RunSegment.binding_id == binding.id)
            .order_by(RunSegment.id.desc())
            .limit(1)
        ).one()
        acked = list(
            s.scalars(
                select(RunBatch.batch).where(
                    RunBatch.run_segment_id == part.id, RunBatch.acked_at.is_not(None)
                )
            )
        )
        rejected = frozenset(
            s.scalars(
                select(RunReject.identifier).where(RunReject.run_segment_id == part.id)
            )
        )
        plan = Path(part.plan_path or "-") / "plan.parquet"
        pending = _rows(plan, "subscribe", acked, acknowledged=False) | _rows(
            plan, "unsubscribe", acked, acknowledged=False
        )
        state = state_path(Path(place.settings.home), binding.id)
        return Synced(
            binding.list_id or 0,
            _rows(plan, "subscribe", acked, acknowledged=True),
            _rows(plan, "unsubscribe", acked, acknowledged=True),
            rejected,
            pending,
            frozenset(state_emails(state)),
        )


@pytest.mark.parametrize("where", list(BOUNDARIES))
def test_a_kill_at_any_step_boundary_never_leaves_the_checkpoint_ahead(
    proxied: tuple[Place, FaultProxy], where: str, reliability_figures: Figures
) -> None:
    """SIGKILL at the boundary: nothing synced that Iterable lacks; resume is exact."""
    place, proxy = proxied
    boundary = BOUNDARIES[where]
    expected, sends = MEMBERS, MANY
    if boundary.reject:
        place.forget(FORGOTTEN)
        expected = MEMBERS - {FORGOTTEN}
    if boundary.removals:
        assert place.run().status is RunStatus.SUCCEEDED
        place.reimport(CROWD_WITHOUT_LEAVERS)
        place.emulator.reset_requests()
        expected, sends = MEMBERS - LEAVERS, len(LEAVERS)
    said = _crash(place, proxy, boundary)
    received = place.sent_items().get(boundary.endpoint, 0)  # before the kill

    synced = _synced(place)
    listed = place.emulator.list_members(synced.list_id) if synced.list_id else set()
    ahead = synced.ahead_of(frozenset(listed))
    answer, resumed = _resume(place)
    after = _synced(place)
    final = place.emulator.list_members(after.list_id)
    sent = place.sent_items().get(boundary.endpoint, 0)
    reliability_figures.record(
        synced_without_ack=ahead,
        lost=len(expected - final),
        wrong_lists=int(final != expected or after.state != final),
        tracebacks=(said + resumed).count("Traceback (most recent call last)"),
    )
    reliability_figures.note("rows re-sent after the kill", sent - sends)
    assert ahead == 0
    assert "Traceback" not in said + resumed
    assert answer["status"] == "Succeeded"
    assert final == expected
    assert after.state == final
    # In flight at the kill: rows Iterable received that no checkpoint recorded.
    # Several batches may be (the window opens after the first answer); the
    # resume sends those again and never a checkpointed one.
    checkpointed = len(synced.unsubscribed if boundary.removals else synced.subscribed)
    in_flight = received - checkpointed
    assert 0 <= in_flight <= MAX_IN_FLIGHT * BATCH
    assert sent - sends == in_flight
    if where == "during the state commit (rewrite)":
        assert synced.state == frozenset()  # the old (empty) state survived the kill
