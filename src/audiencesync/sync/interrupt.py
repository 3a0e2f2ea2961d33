"""Ctrl-C during a run: it stops the run at once, or after the batches in flight.

Two phases, as the user needs them:

- while batches are in flight (:meth:`CtrlC.graceful`), a first press starts no
  new batch: those in flight are answered and checkpointed, as a cancel request
  does, then the sender raises :class:`Interrupted`. The press is a flag the
  sender reads after every answer, not a cancellation of the run's task: that
  abandoned the batches in flight, and asyncio reports a cancellation only if
  it comes back out, which code that swallows one on its way would prevent;
- anywhere else (planning, which can take seconds in DuckDB, looking up the
  list, committing the sync state), a first press stops at once, as Python's
  own Ctrl-C does, and the planning query is interrupted. Nothing there is
  lost: the plan is recorded and the state written whole, or not at all. A
  segment planned while others send (:mod:`audiencesync.sync.together`) has
  its planning query interrupted by the first press too: it sends nothing.

A second press always stops at once. Once pressed, the pass ends Interrupted
(resumable) whatever error then ended its work. Only the main thread of a
process receives signals: a run in a worker thread (``serve``) is not watched,
and a process that ignores SIGINT (started in the background, ``nohup``) keeps
ignoring it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING

from audiencesync.sync.scratch import interrupt_queries

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType


class Interrupted(Exception):
    """The user pressed Ctrl-C: the run stops, Interrupted (resumable)."""


class CtrlC:
    """Whether Ctrl-C was pressed while :meth:`watching`."""

    def __init__(self) -> None:
        self.pressed = False
        self._graceful = 0

    def is_pressed(self) -> bool:
        """Whether Ctrl-C was pressed (the sender asks after every answer)."""
        return self.pressed

    def check(self) -> None:
        """Raise :class:`Interrupted` once Ctrl-C was pressed."""
        if self.pressed:
            raise Interrupted

    @contextlib.contextmanager
    def graceful(self) -> Iterator[None]:
        """While batches are in flight: a first press lets them be answered."""
        self._graceful += 1
        try:
            yield
        finally:
            self._graceful -= 1

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Take SIGINT for the duration, in the main thread unless it is ignored."""
        previous = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is not threading.main_thread() or previous in (
            signal.SIG_IGN,
            signal.SIG_DFL,
            None,
        ):
            yield
            return
        signal.signal(signal.SIGINT, self._press)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _press(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop_now = self.pressed or not self._graceful
        self.pressed = True
        if stop_now:
            interrupt_queries()
            raise KeyboardInterrupt
        # Batches are in flight; a segment planned meanwhile will send nothing.
        interrupt_queries(first_press=True)
