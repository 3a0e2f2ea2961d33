"""``audiencesync serve`` over real sockets: the API and the scheduler, one process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from audiencesync.app.context import AppContext
from audiencesync.auth.directory import resolve_actor
from audiencesync.cli import app as cli
from audiencesync.errors import ConfigError
from audiencesync.settings import Settings
from audiencesync.web.app import create_app
from audiencesync.web.routes import run_events
from audiencesync.web.routes.run_events import EventStreams
from audiencesync.web.server import Address, serve
from tests.web.conftest import Api
from tests.web.test_run_events import events, hand_run

pytestmark = pytest.mark.socket

WAIT = 30.0  # seconds a start or a stop may take on a busy machine


def admin_token(settings: Settings) -> str:
    """A fresh API token of the data folder's administrator."""
    with AppContext.open(settings) as context:
        admin = resolve_actor(context.database, "admin")
        with context.workspace(admin) as workspace:
            token, _ = workspace.users.create_token("admin")
    return token


@dataclass(frozen=True, slots=True)
class Serving:
    """A ``serve`` running in a thread: where it listens, and its stop event."""

    address: Address
    stop: threading.Event

    @property
    def api_url(self) -> str:
        """The API's root URL."""
        return self.address.api_url


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[Serving]:
    """``serve`` in a thread (signals stay with pytest); stopped on the way out."""
    stop, started = threading.Event(), list[Address]()
    thread = threading.Thread(
        target=serve,
        args=(settings,),
        kwargs={
            "host": "127.0.0.1",
            "port": 0,
            "on_start": started.append,
            "stop": stop,
        },
    )
    thread.start()
    try:
        deadline = time.monotonic() + WAIT
        while not started:
            assert thread.is_alive(), "serve ended before it started"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.02)
        yield Serving(started[0], stop)
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive(), "serve did not stop"


def busy_socket() -> socket.socket:
    """A socket listening on a free loopback port (close it when done)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_serve_answers_the_api_and_stops_when_told(settings: Settings) -> None:
    """The API, its docs and a token's user answer; the stop event ends it all."""
    token = admin_token(settings)
    with serving(settings) as served:
        address = served.address
        me = httpx.get(
            f"{address.api_url}/me", headers={"Authorization": f"Bearer {token}"}
        )
        docs = httpx.get(address.docs_url)
        document = httpx.get(f"{address.api_url}/openapi.json")
    assert (me.status_code, me.json()) == (200, {"name": "admin", "role": "admin"})
    assert (docs.status_code, document.status_code) == (200, 200)
    with socket.socket() as again:  # the port was let go
        again.bind(("127.0.0.1", address.port))


def test_serve_refuses_a_port_in_use(settings: Settings) -> None:
    """A taken port is a ConfigError naming it, before anything starts."""
    with busy_socket() as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"Port {port} on 127.0.0.1 is already"):
            serve(settings, host="127.0.0.1", port=port)


def test_the_cli_says_a_port_is_in_use_in_one_line(settings: Settings) -> None:
    """`serve --port N` with N taken: one line on stderr and exit 2."""
    with busy_socket() as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--home", str(settings.home), "--port", str(port)]
        )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: --port: Port {port} on 127.0.0.1 is already in use (another"
        " serve, or another program): stop it, or pick another port."
    ]


def test_an_uninitialised_folder_is_one_line_too(
    tmp_path: Path,
) -> None:
    """`serve` on a folder `init` never made says so, exit 2, no traceback."""
    result = CliRunner().invoke(cli, ["serve", "--home", f"{tmp_path}/nothing"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "No audiencesync data folder" in result.stderr


@contextlib.contextmanager
def bare_app(api: Api) -> Iterator[tuple[str, EventStreams]]:
    """The web app alone under uvicorn on a loopback port; its streams' registry."""
    app = create_app(api.context)
    streams = EventStreams(threading.Event())
    app.state.event_streams = streams
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", streams
    finally:
        server.should_exit = True
        thread.join(WAIT)
        sock.close()


def test_a_client_that_leaves_leaves_no_loop_behind(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing an event stream mid-run ends its polling loop on the server."""
    monkeypatch.setattr(run_events, "POLL_SECONDS", 0.02)
    run = hand_run(api.context.database)
    run.start(planned=10)
    with bare_app(api) as (base_url, streams):
        url = f"{base_url}/api/v1/runs/{run.id}/events"
        with httpx.stream("GET", url, headers=api.auth("viewer")) as answer:
            stream = events(answer.iter_lines())
            first = next(stream)
            watching = streams.live
        deadline = time.monotonic() + WAIT
        while streams.live and time.monotonic() < deadline:
            time.sleep(0.02)
        left = streams.live
    assert (first.name, watching, left) == ("progress", 1, 0)


def test_stopping_ends_open_event_streams(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping while someone follows a run: the stream closes and serve returns."""
    monkeypatch.setattr(run_events, "POLL_SECONDS", 0.02)
    token = admin_token(settings)
    with AppContext.open(settings) as context:
        run = hand_run(context.database)
        run.start(planned=10)
    with serving(settings) as served:
        url = f"{served.api_url}/runs/{run.id}/events"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", url, headers=headers, timeout=WAIT) as answer:
            stream = events(answer.iter_lines())
            first = next(stream)
            served.stop.set()
            rest = list(stream)  # ends when the server closes the stream
    assert (first.name, rest) == ("progress", [])
