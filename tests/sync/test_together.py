"""An export's segments go to Iterable together (issue 14)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import TYPE_CHECKING

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import EmulatorConfig
from audiencesync.sync import plan, segment_pass, sending, state
from audiencesync.sync.scratch import open_scratch
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, HEADER, OnBatch, Place, make_place

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import duckdb

    from audiencesync.sync.history import RunInfo

pytestmark = pytest.mark.socket

EACH = 6_000  # members per segment: six batches each
BOTH = HEADER + "".join(
    f"P{i:05d},p{i:05d}@example.com,{('FR', 'DE')[i % 2]},free\n"
    for i in range(2 * EACH)
)
SLOW = EmulatorConfig(rate_limits_enabled=False, latency=0.2)


class Timeline:
    """A progress receiver that notes when each segment starts and ends sending."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def segment_started(self, segment: str, *, rows: int) -> None:
        """Note the start."""
        del rows
        self.events.append(("started", segment))

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """Batches are not noted."""
        del segment, rows, rate

    def segment_finished(self, segment: str) -> None:
        """Note the end."""
        self.events.append(("finished", segment))

    def span(self, segment: str) -> tuple[int, int]:
        """Where the segment started and finished sending, in event order."""
        return (
            self.events.index(("started", segment)),
            self.events.index(("finished", segment)),
        )


def _run(place: Place, *, at_once: int | None = None) -> tuple[RunInfo, Timeline]:
    timeline = Timeline()
    settings = place.settings
    if at_once is not None:
        settings = settings.model_copy(update={"segments_at_once": at_once})
    with open_workspace(settings) as workspace:
        info = run_export(workspace, EXPORT, progress=timeline)
    return info, timeline


def test_the_segments_of_an_export_send_at_the_same_time(tmp_path: Path) -> None:
    """With a 200 ms round trip, each segment starts sending before the other ends."""
    with make_place(tmp_path, profiles=BOTH, config=SLOW) as place:
        info, timeline = _run(place)
        members = place.members(info)
    france, germany = timeline.span("France"), timeline.span("Germany")
    assert france[0] < germany[1]
    assert germany[0] < france[1]
    assert info.status is RunStatus.SUCCEEDED
    assert {name: len(emails) for name, emails in members.items()} == {
        "France": EACH, "Germany": EACH,
    }  # fmt: skip


def test_one_segment_at_once_sends_them_in_turn(tmp_path: Path) -> None:
    """``AUDIENCESYNC_SEGMENTS_AT_ONCE=1``: one segment ends before the next starts."""
    with make_place(tmp_path, profiles=BOTH, config=SLOW) as place:
        info, timeline = _run(place, at_once=1)
    assert timeline.events == [
        ("started", "France"), ("finished", "France"),
        ("started", "Germany"), ("finished", "Germany"),
    ]  # fmt: skip
    assert info.status is RunStatus.SUCCEEDED


def test_plans_and_sync_states_take_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No two scratch databases are open at once: the run's peak is one of them."""
    open_now, most = [0], [0]
    lock = threading.Lock()

    @contextlib.contextmanager
    def counted(*args: object, **kwargs: object) -> Iterator[duckdb.DuckDBPyConnection]:
        with lock:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
        try:
            with open_scratch(*args, **kwargs) as con:  # type: ignore[arg-type]
                time.sleep(0.05)  # long enough for an overlap to show
                yield con
        finally:
            with lock:
                open_now[0] -= 1

    for module in (plan, state, sending):
        monkeypatch.setattr(module, "open_scratch", counted)
    with make_place(tmp_path, profiles=BOTH) as place:
        info, _ = _run(place)
    assert info.status is RunStatus.SUCCEEDED
    assert most == [1]


def _press() -> None:
    signal.raise_signal(signal.SIGINT)


_A_MINUTE_OF_WORK = "SELECT count(*) FROM range(10_000_000_000) t(x) WHERE x % 7 = 3"


def test_ctrl_c_stops_a_segment_planned_while_another_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first press: batches in flight are answered, the other plan is dropped."""
    real, plans = plan.plan_binding, [0]

    def second_plan_is_long(*args: object, **kwargs: object) -> object:
        plans[0] += 1
        if plans[0] == 2:  # the segment planned while the first one sends
            with open_scratch(kwargs["out"], memory_limit="100MB",  # type: ignore[arg-type]
                              first_press=True) as con:  # fmt: skip
                con.execute(_A_MINUTE_OF_WORK)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(segment_pass, "plan_binding", second_plan_is_long)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    try:
        with make_place(tmp_path, profiles=BOTH, config=SLOW) as place:
            with open_workspace(place.settings) as workspace:
                with pytest.raises(KeyboardInterrupt):
                    run_export(workspace, EXPORT, progress=OnBatch(2, _press))
                (stopped,) = workspace.runs.list().items
            sent = place.sent_items()
            monkeypatch.setattr(segment_pass, "plan_binding", real)
            rest = place.run()
            members = place.members(rest)
    finally:
        signal.signal(signal.SIGINT, before)
    assert time.monotonic() - started < 30
    assert stopped.status == "Interrupted (resumable)"
    acked = sorted(part.batches for part in stopped.segments)
    assert acked[0] == 0  # the segment planned meanwhile sent nothing
    assert acked[1] >= 2
    assert sent == {"lists/subscribe": acked[1] * 1_000}  # every batch sent answered
    assert rest.status is RunStatus.SUCCEEDED
    assert {name: len(emails) for name, emails in members.items()} == {
        "France": EACH, "Germany": EACH,
    }  # fmt: skip
