"""A worker: the forked launcher becomes the client's command, then exits.

It takes the client's stdin, stdout and stderr, working directory, umask,
environment and command line; resets the signals the launcher caught; says its
pid (the client forwards signals to it); runs the command as a cold process
would; then reports the exit code. It never returns.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import locale
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any, NoReturn

from audiencesync.launch.wire import send_line

_MODES = ("r", "w", "w")


def run_worker(
    conn: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    *,
    close: Iterable[int],
) -> NoReturn:
    """Become the client's command; exit with its code."""
    code = 1
    try:
        _become(request, fds, close=close)
        send_line(conn, {"pid": os.getpid()})
        from audiencesync.cli import run_command  # noqa: PLC0415 - preloaded

        code = run_command()
        _finish_threads()
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        send_line(conn, {"exit": code})
        os._exit(code)


def _become(request: dict[str, Any], fds: list[int], *, close: Iterable[int]) -> None:
    os.setpgid(0, 0)  # its own group: a dead client's worker is killed whole
    for fd in close:
        with contextlib.suppress(OSError):
            os.close(fd)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.chdir(str(request["cwd"]))
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})
    time.tzset()  # the client's TZ
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.set_wakeup_fd(-1)
    sys.argv = ["audiencesync", *(str(word) for word in request["argv"])]
    streams = list(request.get("streams") or [None, None, None])
    sys.stdin, sys.stdout, sys.stderr = (
        _stream(fd, _MODES[fd], streams[fd]) for fd in range(3)
    )


def _stream(fd: int, mode: str, spec: Any) -> io.TextIOWrapper:
    """A text stream on ``fd`` as Python makes ``sys.std*`` at start-up."""
    encoding, errors = spec if isinstance(spec, list) else ("utf-8", "strict")
    raw = open(fd, mode + "b", closefd=False)  # noqa: SIM115 - it lives until _exit
    if mode == "r":
        return io.TextIOWrapper(raw, encoding=encoding, errors=errors)
    return io.TextIOWrapper(
        raw,
        encoding=encoding,
        errors=errors,
        line_buffering=os.isatty(fd) or fd == 2,
        write_through=fd == 2,
    )


def _finish_threads() -> None:
    """Wait for the threads a normal interpreter exit would wait for."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
