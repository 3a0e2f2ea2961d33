"""The launcher: one process that imported everything, forking a worker per command.

``python -m audiencesync.launch.server --home H --parent PID``; ``audiencesync
serve`` starts it in a session of its own and stops it with SIGTERM. It is
single-threaded: one selector waits on the listening socket, on each client's
connection (its end means the client died: the worker is killed, as a cold
process's end would end its command) and on each worker's pidfd (a worker
killed by a signal is reported to its client; a worker that exits reports its
own exit code). It stops when asked to or when its parent ends; workers still
running are then watched to their end before it exits.

It refuses (the client then runs the command cold) a client of another Python
or of another copy of audiencesync, and any command once code it imported
changed on disk (audiencesync's files, or a library upgraded): it then restarts
itself with the new code when its last worker ends.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audiencesync.launch.wire import (
    PROTOCOL,
    bind,
    receive_request,
    send_line,
    socket_path,
)
from audiencesync.launch.worker import run_worker

# What commands import as they run: the command modules, the services they
# import when a command runs (none at the top: help loads none), and the parts
# libraries import on first use. A test checks that a warm export run imports
# nothing more; a name a newer library no longer has is skipped, which costs only
# the time of its import in each worker.
PRELOAD = (
    "audiencesync.cli",
    "audiencesync.cli.audit",
    "audiencesync.cli.connections",
    "audiencesync.cli.export_edit",
    "audiencesync.cli.exports",
    "audiencesync.cli.profiles",
    "audiencesync.cli.progress",
    "audiencesync.cli.run_actions",
    "audiencesync.cli.schedule",
    "audiencesync.cli.segments",
    "audiencesync.cli.users",
    "audiencesync.app.context",
    "audiencesync.app.runs",
    "audiencesync.app.views.audit",
    "audiencesync.app.views.connections",
    "audiencesync.app.views.exports",
    "audiencesync.app.views.profiles",
    "audiencesync.app.views.runs",
    "audiencesync.app.views.schedule",
    "audiencesync.app.views.segments",
    "audiencesync.app.views.users",
    "audiencesync.app.workspace",
    "audiencesync.scheduling.refresh",
    "audiencesync.scheduling.report_view",
    "audiencesync.segments.rules",
    "audiencesync.settings",
    "audiencesync.iterable.client",
    "audiencesync.sync.runner",
    "audiencesync.sync.segment_pass",
    "anyio._core._sockets",
    "anyio._core._streams",
    "anyio._core._tasks",
    "anyio._core._testing",
    "anyio.lowlevel",
    "certifi",
    "concurrent.futures.thread",
    "duckdb",
    "encodings.ascii",
    "httpcore",
    "pyarrow.compute",
    "pyarrow.parquet",
    "rich._emoji_codes",
    "sqlalchemy.dialects.sqlite",
    "sqlglot.generators.duckdb",
    "sqlglot.parsers.duckdb",
    "sqlglot.typing.duckdb",
    "stamina.instrumentation",
    "typer._adapters",
    "typer._click.decorators",
)
GREETING = {"ready": PROTOCOL}
REQUEST_SECONDS = 5.0
_PEERCRED = struct.Struct("3i")
_MODULE = "audiencesync.launch.server"
logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Worker:
    pid: int
    conn: socket.socket
    pidfd: int


class Launcher:
    """Accepts commands on ``path`` and runs each in a forked worker."""

    def __init__(self, path: Path, *, parent: int | None) -> None:
        self._path = path
        self._parent = parent
        self._selector = selectors.EpollSelector()
        self._workers: dict[int, _Worker] = {}  # by pidfd
        self._by_conn: dict[socket.socket, _Worker] = {}
        self._listener: socket.socket | None = None
        self._restart = False
        self._loaded = time.time()
        self._inode = 0
        self._wake_r, self._wake_w = os.pipe()

    def serve(self) -> bool:
        """Serve until stopped; True when the code changed and a restart is due."""
        self._listen()
        self._watch_signals()
        while self._listener is not None or self._workers:
            for key, _ in self._selector.select():
                self._dispatch(key.data, key.fileobj)
        return self._restart

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        bind(listener, self._path)
        self._path.chmod(0o600)
        self._inode = self._path.stat().st_ino
        listener.listen(16)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "accept")
        if self._parent is not None:
            parent = os.pidfd_open(self._parent)
            self._selector.register(parent, selectors.EVENT_READ, "parent")

    def _watch_signals(self) -> None:
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w)
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, lambda *_: None)  # the wake-up fd tells
        self._selector.register(self._wake_r, selectors.EVENT_READ, "signal")

    def _dispatch(self, what: str, fileobj: Any) -> None:
        if what == "accept":
            self._accept()
        elif what == "conn":
            self._client_spoke(fileobj)
        elif what == "worker":
            self._worker_ended(fileobj)
        else:  # a stop signal, or the parent ended
            if what == "signal":
                os.read(self._wake_r, 512)
            else:
                self._selector.unregister(fileobj)
            self._stop()

    def _stop(self) -> None:
        """Take no more commands; the running workers are still watched."""
        if self._listener is None:
            return
        self._selector.unregister(self._listener)
        self._listener.close()
        self._listener = None
        with contextlib.suppress(OSError):  # another launcher's socket stays
            if self._path.stat().st_ino == self._inode:
                self._path.unlink()

    def _accept(self) -> None:
        assert self._listener is not None  # noqa: S101 - registered only while listening
        conn, _ = self._listener.accept()
        try:
            self._start(conn)
        except (OSError, ValueError, TypeError):
            conn.close()  # a client that went away or spoke nonsense

    def _start(self, conn: socket.socket) -> None:
        conn.settimeout(REQUEST_SECONDS)
        _, uid, _ = _PEERCRED.unpack(
            conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
        )
        if uid != os.getuid():
            conn.close()
            return
        send_line(conn, GREETING)
        request, fds = receive_request(conn, 3)
        try:
            refusal = self._refusal(request, fds)
            if refusal is not None:
                send_line(conn, {"refused": refusal})
                conn.close()
                return
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                run_worker(conn, request, fds, close=self._inherited())
            self._watch(pid, conn)
        finally:
            for fd in fds:
                os.close(fd)

    def _refusal(self, request: dict[str, Any], fds: list[int]) -> str | None:
        if request.get("protocol") != PROTOCOL or len(fds) != 3:
            return "another version of the launcher's protocol"
        if request.get("executable") != sys.executable:
            return "another Python"
        if request.get("package") != str(Path(__file__).resolve().parent.parent):
            return "another copy of audiencesync"
        if self._listener is None:
            return "the launcher is stopping"
        if self._changed():
            self._restart = True
            self._stop()
            return "audiencesync's files changed since the launcher started"
        return None

    def _changed(self) -> bool:
        """Whether code it imported changed on disk since (an upgrade, an edit).

        audiencesync's own files are looked at one by one; a library's folders
        only (an upgrade replaces files, which changes their folder): about 3 ms.
        """
        paths: set[str] = set()
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                own = name.startswith("audiencesync")
                paths.add(path if own else os.path.dirname(path))  # noqa: PTH120
        for path in paths:
            with contextlib.suppress(OSError):
                if os.stat(path).st_mtime > self._loaded:  # noqa: PTH116 - 450 stats
                    return True
        return False

    def _inherited(self) -> list[int]:
        """The descriptors a worker must not keep: the launcher's own."""
        fds = [self._wake_r, self._wake_w, self._selector.fileno()]
        fds += [key.fd for key in self._selector.get_map().values()]
        return fds

    def _watch(self, pid: int, conn: socket.socket) -> None:
        conn.setblocking(False)
        worker = _Worker(pid, conn, os.pidfd_open(pid))
        self._workers[worker.pidfd] = worker
        self._by_conn[conn] = worker
        self._selector.register(worker.pidfd, selectors.EVENT_READ, "worker")
        self._selector.register(conn, selectors.EVENT_READ, "conn")

    def _client_spoke(self, conn: socket.socket) -> None:
        """A client says nothing after its request: readable means it ended."""
        try:
            data = conn.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            return
        worker = self._by_conn.pop(conn, None)
        if worker is None:
            return  # its worker ended in the same round of events
        self._selector.unregister(conn)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signal.SIGKILL)

    def _worker_ended(self, pidfd: int) -> None:
        worker = self._workers.pop(pidfd, None)
        if worker is None:
            return
        self._selector.unregister(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(worker.pid, 0)
        if os.WIFSIGNALED(status):
            send_line(worker.conn, {"signal": os.WTERMSIG(status)})
        if self._by_conn.pop(worker.conn, None) is not None:
            self._selector.unregister(worker.conn)
        worker.conn.close()


def preload() -> None:
    """Import what commands use, and do their first-use work, so no worker has to.

    That work holds no connection and starts no thread, so it is safe to
    inherit: the TLS context (45 ms: the CA store) and the configuration of the
    control plane's mapped classes (40 ms, done by their first query).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS threads to fork
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            logger.debug("%s is not there to preload", name)
    from sqlalchemy.orm import configure_mappers  # noqa: PLC0415 - preloaded above

    from audiencesync.iterable.client import tls_context  # noqa: PLC0415

    tls_context()
    configure_mappers()


def main(argv: list[str] | None = None) -> None:
    """Listen in the data folder until stopped; restart when the code changed."""
    parser = argparse.ArgumentParser(prog="python -m audiencesync.launch.server")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args(argv)
    preload()
    path = socket_path(args.home.resolve())
    os.chdir("/")  # a worker goes to its client's folder; this one holds none
    try:
        restart = Launcher(path, parent=args.parent).serve()
    except OSError as exc:  # a folder it may not write to, a file in the way
        sys.stderr.write(
            f"audiencesync: no fast start for {args.home}: cannot listen on"
            f" {path.name} ({exc.strerror or exc}); commands start cold.\n"
        )
        raise SystemExit(1) from None
    if restart:
        os.execv(sys.executable, [sys.executable, "-m", _MODULE, *sys.argv[1:]])  # noqa: S606


if __name__ == "__main__":
    main()
