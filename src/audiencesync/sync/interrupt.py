"""Ctrl-C during a run: the first press stops it, and is never lost.

asyncio's own handling turns a first Ctrl-C into a cancellation of the run's
task, and reports it only if that cancellation comes back out: code that
swallows a cancellation on its way (a library's shielded clean-up, say) would
let the run go on sending and end Succeeded, exit 0, as if nobody had pressed
anything. Here the press is also remembered: the run's heartbeat, which the
sender calls after every acknowledged batch, raises :class:`Interrupted` once
it was pressed, and the pass reports it however its work ended. A second press
raises KeyboardInterrupt at once, as asyncio does.

Only the main thread of a process receives signals: a run in a worker thread
(``serve``) is not watched, and a process that ignores SIGINT keeps ignoring it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType


class Interrupted(Exception):
    """The user pressed Ctrl-C: the run stops after the batches in flight."""


class CtrlC:
    """Whether Ctrl-C was pressed while :meth:`watching` a run's task."""

    def __init__(self) -> None:
        self.pressed = False
        self._task: asyncio.Future[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def check(self) -> None:
        """Raise :class:`Interrupted` once Ctrl-C was pressed."""
        if self.pressed:
            raise Interrupted

    @contextlib.contextmanager
    def watching(self, task: asyncio.Future[Any]) -> Iterator[None]:
        """Take SIGINT for the duration: a press cancels ``task`` and is kept."""
        previous = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is not threading.main_thread() or previous in (
            signal.SIG_IGN,
            signal.SIG_DFL,
            None,
        ):
            yield
            return
        self._task, self._loop = task, asyncio.get_running_loop()
        signal.signal(signal.SIGINT, self._press)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self._task = self._loop = None

    def _press(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        if self._task is not None and self._loop is not None:
            # A signal handler runs between two bytecodes of the main thread,
            # perhaps inside the loop's own code: the cancel goes through it.
            self._loop.call_soon_threadsafe(self._task.cancel)
