"""Ctrl-C during a run: after the batches in flight while sending, else at once."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import TYPE_CHECKING

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.iterable.client import MAX_IN_FLIGHT
from audiencesync.sync import runner, segment_pass
from audiencesync.sync.interrupt import CtrlC, Interrupted
from audiencesync.sync.plan import plan_binding
from audiencesync.sync.scratch import open_scratch
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, HEADER, OnBatch, Place, make_place

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from audiencesync.app.views.runs import RunView
    from audiencesync.sync.outcomes import SegmentOutcome

LARGE = 12_500  # French members: 13 batches, more than a window holds


def _press() -> None:
    """Ctrl-C, as the terminal sends it: SIGINT to this process's main thread."""
    assert threading.current_thread() is threading.main_thread()
    signal.raise_signal(signal.SIGINT)


def _press_twice() -> None:
    _press()
    _press()


@pytest.fixture(autouse=True)
def at_a_terminal() -> Iterator[None]:
    """SIGINT handled as in a command typed at a terminal, for the test's duration.

    A test run started in the background (``make test &``) has SIGINT ignored,
    and a run then rightly keeps ignoring it.
    """
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.fixture
def crowd(tmp_path: Path) -> Iterator[Place]:
    """A place whose France segment takes 13 subscribe batches."""
    profiles = HEADER + "".join(f"P{i},p{i:05d}@example.com,FR,free\n"
                                for i in range(LARGE))  # fmt: skip
    with make_place(tmp_path, profiles=profiles) as place:
        yield place


def _stopped_run(place: Place, progress: OnBatch | None = None) -> RunView:
    """Run the export until Ctrl-C stops it; the run as the user then reads it."""
    with open_workspace(place.settings) as workspace:
        with pytest.raises(KeyboardInterrupt):
            run_export(workspace, EXPORT, progress=progress)
        (stopped,) = workspace.runs.list().items
    return stopped


@pytest.mark.socket
def test_ctrl_c_while_sending_lets_the_batches_in_flight_be_answered(
    crowd: Place,
) -> None:
    """No new batch starts; those in flight are acknowledged and kept, none lost."""
    stopped = _stopped_run(crowd, OnBatch(2, _press))  # the window is open by then

    acked = stopped.segments[0].batches
    assert stopped.status == "Interrupted (resumable)"
    assert "Stopped by the user" in (stopped.error or "")
    assert 2 <= acked <= 2 + MAX_IN_FLIGHT < LARGE // 1_000
    # Every batch sent was answered and checkpointed: nothing to send twice.
    assert crowd.sent_items() == {"lists/subscribe": acked * 1_000}


@pytest.mark.socket
def test_the_next_run_sends_only_what_a_ctrl_c_left(crowd: Place) -> None:
    """After Ctrl-C, the next run completes the list with the unsent batches only."""
    stopped = _stopped_run(crowd, OnBatch(1, _press))
    crowd.emulator.reset_requests()

    rest = crowd.run()

    acked = stopped.segments[0].batches
    assert crowd.sent_items() == {"lists/subscribe": LARGE - acked * 1_000}
    assert rest.status is RunStatus.SUCCEEDED
    assert len(crowd.members(rest)["France"]) == LARGE


@pytest.mark.socket
def test_a_second_ctrl_c_stops_the_sending_at_once(crowd: Place) -> None:
    """Pressed twice, the run stops without waiting for the batches in flight."""
    stopped = _stopped_run(crowd, OnBatch(2, _press_twice))

    assert stopped.status == "Interrupted (resumable)"
    assert stopped.segments[0].batches == 2  # the batches in flight were not awaited


@pytest.mark.socket
def test_ctrl_c_while_planning_stops_at_once(
    crowd: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long planning query is interrupted: Interrupted, not Failed, nothing sent."""
    real = plan_binding

    def long_plan(*args: object, **kwargs: object) -> object:
        out = kwargs["out"]
        with open_scratch(out, memory_limit="100MB") as con:  # type: ignore[arg-type]
            threading.Timer(0.3, _press_from_thread).start()
            # About a minute of work, unless Ctrl-C interrupts it.
            con.execute(_A_MINUTE_OF_WORK)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(segment_pass, "plan_binding", long_plan)
    started = time.monotonic()

    stopped = _stopped_run(crowd)

    assert time.monotonic() - started < 20
    assert stopped.status == "Interrupted (resumable)"
    assert crowd.sent_items() == {}


_A_MINUTE_OF_WORK = "SELECT count(*) FROM range(10_000_000_000) t(x) WHERE x % 7 = 3"


def _press_from_thread() -> None:
    """SIGINT to this process from another thread: the main thread handles it."""
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def test_a_pass_that_fails_after_a_ctrl_c_is_interrupted() -> None:
    """Whatever error ends the work once Ctrl-C was pressed, the pass is Interrupted."""
    ctrl_c = CtrlC()

    async def work() -> list[SegmentOutcome]:
        with ctrl_c.graceful():
            _press()
        msg = "Query interrupted"  # what DuckDB raises when a press stops it
        raise RuntimeError(msg)

    with pytest.raises(Interrupted):
        asyncio.run(runner._kept_alive(lambda: None, work(), ctrl_c))


def test_ctrl_c_handling_ends_with_the_pass() -> None:
    """After the pass, SIGINT has the handler it had before."""
    before = signal.getsignal(signal.SIGINT)

    async def work() -> list[SegmentOutcome]:
        assert signal.getsignal(signal.SIGINT) != before
        return []

    asyncio.run(runner._kept_alive(lambda: None, work(), CtrlC()))

    assert signal.getsignal(signal.SIGINT) == before


def test_a_pass_in_another_thread_leaves_sigint_alone() -> None:
    """Only the main thread takes signals: a run in a worker thread is not watched."""
    seen: list[object] = []
    before = signal.getsignal(signal.SIGINT)

    async def work() -> list[SegmentOutcome]:
        seen.append(signal.getsignal(signal.SIGINT))
        return []

    def in_thread() -> None:
        asyncio.run(runner._kept_alive(lambda: None, work(), CtrlC()))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=30)

    assert seen == [before]


def test_a_pass_started_with_sigint_ignored_keeps_ignoring_it() -> None:
    """Started in the background (SIGINT ignored), a run does not take Ctrl-C."""
    seen: list[object] = []
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def work() -> list[SegmentOutcome]:
        seen.append(signal.getsignal(signal.SIGINT))
        return []

    asyncio.run(runner._kept_alive(lambda: None, work(), CtrlC()))

    assert seen == [signal.SIG_IGN]
