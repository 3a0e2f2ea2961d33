"""The ``audiencesync`` command: hand the command to a launcher, or run it here.

Standard library only until it runs the command cold: importing the CLI is
what a launcher saves (see :mod:`audiencesync.launch`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from audiencesync.launch.wire import (
    PROTOCOL,
    SWITCH,
    WARM_COMMANDS,
    connect,
    home_of,
    send_request,
    socket_path,
)

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
CONNECT_SECONDS = 5.0  # a loaded machine may take a while; a stuck launcher costs this
EXIT_LOST = 1  # the worker ended without telling its exit code


def main() -> None:
    """Run the command line, in a launcher's worker when one is up."""
    code = forward(sys.argv[1:])
    if code is None:
        from audiencesync.cli import main as run_cold  # noqa: PLC0415 - the slow path

        run_cold()
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def forward(argv: list[str]) -> int | None:
    """The worker's exit code, or None when the command must run here."""
    if os.environ.get(SWITCH) == "0" or not argv or argv[0] not in WARM_COMMANDS:
        return None
    if "--help" in argv:
        return None  # help is fast cold, and needs no launcher
    try:
        cwd = Path.cwd()
    except OSError:
        return None
    path = socket_path(home_of(argv, dict(os.environ), cwd))
    try:
        sock = _connect(path)
    except OSError:
        return None
    with sock:
        return _converse(sock, argv, cwd)


def _connect(path: Path) -> socket.socket:
    if not path.is_socket():
        raise FileNotFoundError(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_SECONDS)
        connect(sock, path)
    except OSError:
        sock.close()
        raise
    return sock


def _converse(sock: socket.socket, argv: list[str], cwd: Path) -> int | None:
    """Greeting, request, then the worker's answers.

    The request goes only after the launcher's greeting, within
    :data:`CONNECT_SECONDS`: a client that gave up has sent nothing to run. Once
    it is sent, the client waits as long as the worker runs: a worker announces
    itself (``pid``) before anything else, so an answer without it means that
    nothing ran and the command can run here.
    """
    answers = sock.makefile("rb")
    try:
        greeting = _answer(answers)
        if greeting is None or greeting.get("ready") != PROTOCOL:
            return None
        sock.settimeout(None)
        send_request(sock, _request(argv, cwd), [0, 1, 2])
    except (OSError, ValueError):
        return None  # no launcher to speak of: nothing ran
    first = _safe_answer(answers)
    if first is None or "pid" not in first:
        return None  # refused, or the launcher ended: nothing ran
    with _forwarding(int(first["pid"])):
        while (answer := _safe_answer(answers)) is not None:
            if "exit" in answer:
                return int(answer["exit"])
            if "signal" in answer:
                return 128 + int(answer["signal"])
    sys.stderr.write("audiencesync: the command's process ended unexpectedly.\n")
    return EXIT_LOST


def _request(argv: list[str], cwd: Path) -> dict[str, Any]:
    mask = os.umask(0)
    os.umask(mask)
    return {
        "protocol": PROTOCOL,
        "argv": argv,
        "cwd": str(cwd),
        "env": dict(os.environ),
        "umask": mask,
        "executable": sys.executable,
        "package": str(Path(__file__).resolve().parent.parent),
        "streams": [_stream(sys.stdin), _stream(sys.stdout), _stream(sys.stderr)],
    }


def _stream(stream: Any) -> list[str] | None:
    """The encoding and error handler Python chose for a standard stream."""
    if stream is None:
        return None
    return [str(stream.encoding), str(stream.errors)]


def _answer(answers: Any) -> dict[str, Any] | None:
    line = answers.readline()
    if not line:
        return None
    answer = json.loads(line)
    return answer if isinstance(answer, dict) else None


def _safe_answer(answers: Any) -> dict[str, Any] | None:
    while True:
        try:
            return _answer(answers)
        except InterruptedError:
            continue
        except (OSError, ValueError):
            return None


class _forwarding:  # a context manager, named for what it does
    """Pass the signals a terminal or a supervisor sends this process on to ``pid``."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._before: dict[int, Any] = {}

    def _pass(self, number: int, frame: FrameType | None) -> None:  # noqa: ARG002
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, number)

    def __enter__(self) -> None:
        for number in FORWARDED:
            self._before[number] = signal.signal(number, self._pass)

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._before.items():
            signal.signal(number, handler)
