"""Serving the emulator over a real socket: blocking (CLI) or in a thread (tests)."""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from audiencesync.emulator.app import Emulator
from audiencesync.emulator.replies import ConnectionDropped

STARTUP_TIMEOUT_SECONDS = 10.0
GC_THRESHOLDS = (50_000, 20, 100)


class _HideDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for each deliberate drop."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def _server(emulator: Emulator, *, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        emulator.app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        log_config=None,
    )
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDrops) for f in logger.filters):
        logger.addFilter(_HideDrops())
    return uvicorn.Server(config)


def run(emulator: Emulator, *, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C), saving the state file on the way out.

    The process is the emulator's alone, so the cyclic garbage collector is
    tuned for millions of long-lived users: start-up objects are frozen and
    young collections run less often (they otherwise dominate subscribe time).
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    _server(emulator, host=host, port=port).run()


@contextlib.contextmanager
def serve_in_thread(
    emulator: Emulator, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve ``emulator`` from a background thread; yields its base URL.

    ``port=0`` picks a free port. The server stops (and saves its state file, if
    any) when the block ends.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = _server(emulator, host=host, port=sock.getsockname()[1])
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_SECONDS)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = "the emulator server did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)
