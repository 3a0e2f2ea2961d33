"""``audiencesync serve``: one process for the REST API, scheduler and run worker.

:func:`serve` opens the data folder's :class:`AppContext` once and runs three
things until it is told to stop:

- the web app (:func:`create_app`) under uvicorn, in a thread of its own, on a
  socket bound here first (so a port in use is one clear error, before
  anything starts);
- the scheduler loop (:class:`Scheduler`), in a thread: the refresh and export
  schedules, and the resumption of stopped runs;
- the run worker (``RunWorker``), which executes the runs the API queued.

The calling (main) thread only waits: Ctrl-C (SIGINT) and SIGTERM set the stop
event, and so does the web thread dying. Stopping ends the open event streams,
lets the scheduler and the worker finish the work in hand, and closes the web
server; no traceback, no thread left behind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from audiencesync.app.context import AppContext
from audiencesync.app.worker import RunWorker
from audiencesync.errors import ConfigError
from audiencesync.scheduling.scheduler import Scheduler
from audiencesync.web.app import API_PREFIX, create_app
from audiencesync.web.routes.run_events import EventStreams

if TYPE_CHECKING:
    from fastapi import FastAPI

    from audiencesync.settings import Settings

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 15.0  # seconds the web server may take to listen
GRACEFUL_SHUTDOWN = 5  # seconds open requests get once stopping
WATCH_INTERVAL = 0.5  # how often the main thread checks the web thread is alive


@dataclass(frozen=True, slots=True)
class Address:
    """Where the API listens."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:8000`` (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API's root: ``http://127.0.0.1:8000/api/v1``."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def docs_url(self) -> str:
        """The interactive API documentation."""
        return f"{self.base_url}/api/docs"


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    on_start: Callable[[Address], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve the API, the scheduler and the run worker until stopped.

    ``port`` 0 picks a free port (``on_start`` gets the one chosen). Raises
    ConfigError (code ``port_in_use``) when the address is taken. ``stop``
    ends it from another thread; in the main thread Ctrl-C and SIGTERM do.
    """
    stop = stop or threading.Event()
    with AppContext.open(settings) as context, _bound(host, port) as sock:
        address = Address(host, sock.getsockname()[1])
        app = create_app(context)
        app.state.event_streams = EventStreams(stop)
        with _stopping_on_signals(stop), _running(app, sock, settings, context, stop):
            if on_start is not None:
                on_start(address)
            while not stop.wait(WATCH_INTERVAL):
                pass  # timed waits: the signal handlers run between two of them


@contextlib.contextmanager
def _running(
    app: FastAPI,
    sock: socket.socket,
    settings: Settings,
    context: AppContext,
    stop: threading.Event,
) -> Iterator[None]:
    """The web server, the scheduler and the worker, all stopped on the way out."""
    server = uvicorn.Server(_config(app))
    web = threading.Thread(
        target=_serve_web, args=(server, sock, stop), name="web", daemon=True
    )
    scheduler = threading.Thread(
        target=Scheduler(settings, stop=stop, wake=context.refresh_asked).run,
        name="scheduler",
        daemon=True,
    )
    worker = RunWorker(context)
    web.start()
    try:
        _wait_listening(server, web)
        scheduler.start()
        worker.start()
        yield
    finally:
        stop.set()  # ends the event streams and the scheduler's wait
        context.refresh_asked.set()  # (it may be waiting on this one)
        server.should_exit = True
        worker.stop()
        if scheduler.is_alive():
            scheduler.join()
        web.join()


def _config(app: FastAPI) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        access_log=False,
        log_level="warning",
        log_config=None,  # our logging, not uvicorn's dictConfig
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


def _serve_web(
    server: uvicorn.Server, sock: socket.socket, stop: threading.Event
) -> None:
    """Run uvicorn on ``sock``; whatever ends it ends the whole process."""
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()


def _wait_listening(server: uvicorn.Server, web: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not web.is_alive() or time.monotonic() > deadline:
            msg = "The web server did not start; see the log lines above."
            raise ConfigError(msg, code="serve_failed")
        time.sleep(0.02)


@contextlib.contextmanager
def _bound(host: str, port: int) -> Iterator[socket.socket]:
    """A listening-ready socket on (host, port); ConfigError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise _bind_error(host, port, exc) from None
    with contextlib.closing(sock):
        yield sock


def _bind_error(host: str, port: int, exc: OSError) -> ConfigError:
    details: dict[str, object] = {"host": host, "port": port}
    if exc.errno == errno.EADDRINUSE:
        msg = (
            f"Port {port} on {host} is already in use (another serve, or another"
            " program): stop it, or pick another port."
        )
        return ConfigError(msg, code="port_in_use", field="port", details=details)
    if exc.errno == errno.EACCES:
        msg = f"Port {port} on {host} needs privileges: pick a port above 1023."
        return ConfigError(msg, code="port_denied", details=details)
    msg = f"Cannot listen on {host}:{port}: {exc.strerror or 'address refused'}."
    return ConfigError(msg, code="bad_address", details=details)


@contextlib.contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """In the main thread, SIGINT and SIGTERM set ``stop`` instead of raising."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {
        sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
