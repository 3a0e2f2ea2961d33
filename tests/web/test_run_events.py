"""``GET /api/v1/runs/{run_id}/events``: a run's progress as server-sent events.

The runs are driven by hand through the sync engine's own record functions
(lock, start, plan, checkpoint, finish), so each test decides when the run moves.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from audiencesync.store import Database, Export, Segment
from audiencesync.sync.bindings import ensure_binding
from audiencesync.sync.checkpoints import (
    PlanSummary,
    add_run_segment,
    checkpoint,
    record_plan,
    set_segment_status,
)
from audiencesync.sync.lock import Lease, acquire, release, this_process
from audiencesync.sync.records import create_run, finish, start
from audiencesync.sync.statuses import RunStatus
from audiencesync.web.routes import run_events
from audiencesync.web.routes.run_events import EventStreams
from tests.web.conftest import Api


@dataclass
class HandRun:
    """A run of export "Newsletter" (segment "VIP") that the test moves."""

    database: Database
    id: int
    part: int
    export_id: int
    lease: Lease | None = None

    def start(self, *, planned: int) -> None:
        """Take the export's lock and start sending ``planned`` rows."""
        self.lease = acquire(
            self.database, self.export_id, self.id, holder=this_process()
        )
        with self.database.session() as session:
            start(session, self.id)
            set_segment_status(session, self.part, RunStatus.RUNNING)
            record_plan(session, self.part, PlanSummary(add=planned, batches=planned))

    def ack(self, batch: int, size: int) -> None:
        """Iterable acknowledged one batch of ``size`` rows."""
        with self.database.session() as session:
            checkpoint(session, self.part, batch, "subscribe", size)

    def finish(self, status: RunStatus = RunStatus.SUCCEEDED) -> None:
        """End the run (and its segment) with ``status``; give the lock back."""
        with self.database.session() as session:
            set_segment_status(session, self.part, status)
            finish(session, self.id, status)
        if self.lease is not None:
            release(self.database, self.lease)


def hand_run(database: Database) -> HandRun:
    """A new Queued run with one segment."""
    with database.session() as session:
        export = session.scalar(select(Export).where(Export.name == "Newsletter"))
        if export is None:
            segment = Segment(name="VIP", name_key="vip", kind="where", definition={})
            export = Export(name="Newsletter", name_key="newsletter", email_field="e")
            session.add_all([segment, export])
            session.flush()
        segment_id = session.scalars(
            select(Segment.id).where(Segment.name == "VIP")
        ).one()
        run = create_run(session, export.id, trigger="manual", requested_by="admin")
        binding = ensure_binding(session, export.id, segment_id)
        part = add_run_segment(session, run, binding, segment_name="VIP")
        return HandRun(database, run.id, part.id, export.id)


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its name and its JSON data."""

    name: str
    data: dict[str, Any]


def events(lines: Iterator[str]) -> Iterator[Event]:
    """The events of an SSE stream's lines (comments skipped)."""
    name, data = "message", ""
    for line in lines:
        if not line:
            if data:
                yield Event(name, json.loads(data))
            name, data = "message", ""
        elif line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data += line.removeprefix("data: ")


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll every 20 ms instead of 500 ms: the tests wait less."""
    monkeypatch.setattr(run_events, "POLL_SECONDS", 0.02)


def _url(run_id: int) -> str:
    return f"/api/v1/runs/{run_id}/events"


def test_a_run_is_followed_from_progress_to_its_end(api: Api) -> None:
    """Progress events as batches land, then one end event, then the stream closes."""
    run = hand_run(api.context.database)
    run.start(planned=3)
    seen = []
    with api.client.stream("GET", _url(run.id), headers=api.auth("admin")) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        stream = events(answer.iter_lines())
        seen.append(next(stream))
        run.ack(0, 1)
        seen.append(next(stream))
        run.ack(1, 2)
        seen.append(next(stream))
        run.finish()
        seen.extend(stream)  # the end event, then the stream closes
    names = [event.name for event in seen]
    sent = [event.data["segments"][0]["sent"] for event in seen]
    assert names == ["progress"] * (len(seen) - 1) + ["end"]
    assert sent == sorted(sent)  # a poll may land between two writes: no fewer
    assert {0, 1, 3} <= set(sent)
    assert seen[-1].data["segments"][0] == {
        "segment": "VIP",
        "status": "Succeeded",
        "sent": 3,
        "planned": 3,
        "rate_per_second": None,
        "eta_seconds": 0,
    }
    assert (seen[-1].data["run_id"], seen[-1].data["finished"]) == (run.id, True)


def test_a_queued_run_shows_queued_until_it_starts(api: Api) -> None:
    """A run waiting for the worker reads Queued first, then Running."""
    run = hand_run(api.context.database)
    with api.client.stream("GET", _url(run.id), headers=api.auth("viewer")) as answer:
        stream = events(answer.iter_lines())
        seen = [next(stream)]
        run.start(planned=1)
        while seen[-1].data["status"] != "Running":
            seen.append(next(stream))
        run.finish()
        seen.extend(stream)
    statuses = [event.data["status"] for event in seen]
    assert (statuses[0], statuses[-1], seen[-1].name) == ("Queued", "Succeeded", "end")
    assert "Running" in statuses


@pytest.mark.parametrize("role", ["admin", "contributor", "viewer"])
def test_every_role_may_watch_a_run(api: Api, role: str) -> None:
    """Run history is readable by all: a finished run streams its end event."""
    run = hand_run(api.context.database)
    run.start(planned=1)
    run.finish(RunStatus.FAILED_PERMANENT)
    answer = api.client.get(_url(run.id), headers=api.auth(role))
    assert answer.status_code == 200
    assert [
        (e.name, e.data["status"]) for e in events(iter(answer.text.splitlines()))
    ] == [("end", "Failed (permanent)")]


def test_a_stream_without_a_token_is_refused_with_401(api: Api) -> None:
    """No token, no events (even of a run that exists)."""
    run = hand_run(api.context.database)
    answer = api.client.get(_url(run.id))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_an_unknown_run_is_a_404_before_any_event(api: Api) -> None:
    """A run that does not exist is a plain 404 in the error shape."""
    answer = api.client.get(_url(4242), headers=api.auth("viewer"))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "run_not_found"


@pytest.mark.parametrize("run_id", ["0", "-1", "x", str(2**63), "9" * 400])
def test_a_run_id_out_of_range_is_a_422(api: Api, run_id: str) -> None:
    """Ids that cannot exist are refused as invalid input, never a 500."""
    answer = api.client.get(f"/api/v1/runs/{run_id}/events", headers=api.auth("admin"))
    assert answer.status_code == 422


def test_a_stopping_server_ends_open_streams(api: Api) -> None:
    """When serve stops, a stream of a run still going closes (no end event)."""
    stopping = threading.Event()
    app: Any = api.client.app
    app.state.event_streams = EventStreams(stopping)
    run = hand_run(api.context.database)
    run.start(planned=5)
    with api.client.stream("GET", _url(run.id), headers=api.auth("admin")) as answer:
        stream = events(answer.iter_lines())
        first = next(stream)
        stopping.set()
        rest = list(stream)
    assert (first.name, rest) == ("progress", [])
    assert app.state.event_streams.live == 0


def test_the_stream_is_documented_as_event_stream(api: Api) -> None:
    """The OpenAPI document lists the route with a text/event-stream answer."""
    document = api.client.get("/api/v1/openapi.json").json()
    route = document["paths"]["/api/v1/runs/{run_id}/events"]["get"]
    assert "text/event-stream" in route["responses"]["200"]["content"]
