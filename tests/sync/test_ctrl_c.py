"""Ctrl-C during a run: a first press stops it, even where a cancellation is lost."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from typing import TYPE_CHECKING, Any

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.iterable.client import MAX_IN_FLIGHT
from audiencesync.sync import runner
from audiencesync.sync.interrupt import CtrlC, Interrupted
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, HEADER, OnBatch, make_place

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from pathlib import Path

    from audiencesync.sync.outcomes import SegmentOutcome

LARGE = 12_500  # French members: 13 batches, more than a window holds


def _press() -> None:
    """Ctrl-C, as the terminal sends it: SIGINT to this process's main thread."""
    assert threading.current_thread() is threading.main_thread()
    signal.raise_signal(signal.SIGINT)


async def _sleep_through_cancel(seconds: float) -> None:
    """Sleep; a cancellation ends the sleep and is swallowed, as a library may do."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(seconds)


def _stubborn(
    beat: Callable[[], None], sent: list[int]
) -> Coroutine[Any, Any, list[SegmentOutcome]]:
    """Work that swallows every cancellation and beats after each "batch"."""

    async def work() -> list[SegmentOutcome]:
        while len(sent) < 50:
            await _sleep_through_cancel(0.01)
            beat()
            sent.append(1)
            if len(sent) == 3:
                _press()
        return []

    return work()


def test_a_first_ctrl_c_is_not_lost_when_the_work_swallows_the_cancel() -> None:
    """The next heartbeat stops the work, and the pass ends Interrupted."""
    ctrl_c, sent = CtrlC(), list[int]()
    beat = runner._checked(lambda: None, ctrl_c)

    with pytest.raises(Interrupted):
        asyncio.run(runner._kept_alive(beat, _stubborn(beat, sent), ctrl_c))

    assert len(sent) == 3  # nothing was sent after the press


def test_a_pass_whose_work_ends_anyway_after_a_ctrl_c_is_interrupted() -> None:
    """Work that swallows the cancel and never beats again still reads Interrupted."""
    ctrl_c = CtrlC()

    async def work() -> list[SegmentOutcome]:
        _press()
        await _sleep_through_cancel(5)
        return []

    with pytest.raises(Interrupted):
        asyncio.run(runner._kept_alive(lambda: None, work(), ctrl_c))


def test_a_second_ctrl_c_stops_at_once() -> None:
    """Pressed twice, KeyboardInterrupt is raised where the program is."""
    ctrl_c = CtrlC()

    async def work() -> list[SegmentOutcome]:
        _press()
        await _sleep_through_cancel(5)
        _press()
        await asyncio.sleep(5)
        return []

    with pytest.raises(KeyboardInterrupt):
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


@pytest.mark.socket
def test_ctrl_c_during_a_run_stops_it_interrupted_and_keeps_what_was_acked(
    tmp_path: Path,
) -> None:
    """A real SIGINT after the first batch: Interrupted, then the next run completes."""
    crowd = HEADER + "".join(f"P{i},p{i:05d}@example.com,FR,free\n"
                             for i in range(LARGE))  # fmt: skip
    with make_place(tmp_path, profiles=crowd) as place:
        with open_workspace(place.settings) as workspace:
            with pytest.raises(KeyboardInterrupt):
                run_export(workspace, EXPORT, progress=OnBatch(1, _press))
            (stopped,) = workspace.runs.list().items
        place.emulator.reset_requests()

        rest = place.run()

    assert stopped.status == "Interrupted (resumable)"
    assert stopped.error is not None
    assert "Stopped by the user" in stopped.error
    # It stopped after the batches in flight at the press, and kept them.
    acked = stopped.segments[0].batches
    assert 1 <= acked <= 1 + MAX_IN_FLIGHT < LARGE // 1_000
    assert place.sent_items() == {"lists/subscribe": LARGE - acked * 1_000}
    assert rest.status is RunStatus.SUCCEEDED
    assert len(place.members(rest)["France"]) == LARGE
