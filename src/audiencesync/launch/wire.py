"""What the client and the launcher share: where they meet, and their messages.

Standard library only: the client imports this before anything else.

One connection per command. The client sends one *request* (a length-prefixed
JSON object) with its stdin, stdout and stderr attached (``SCM_RIGHTS``). The
launcher answers with JSON lines: ``{"pid": N}`` once the worker runs, or
``{"refused": "why"}`` (the client then runs the command itself); later the
worker's ``{"exit": code}``, or the launcher's ``{"signal": n}`` when the worker
was killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

SOCKET_NAME = "launcher.sock"
PROTOCOL = 1
# The commands a worker may run: none of them prompts for a secret (a worker has
# no controlling terminal to read one from without echoing it).
WARM_COMMANDS = frozenset({"exports", "runs", "segments", "system", "audit"})
SWITCH = "AUDIENCESYNC_FAST_START"  # "0" runs every command cold
_LENGTH = struct.Struct("!I")
MAX_REQUEST = 1 << 20  # an environment larger than 1 MiB is not forwarded
_MAX_ADDRESS = 100  # bytes of a socket path used as such (the limit is 107)


def socket_path(home: Path) -> Path:
    """Where the launcher of the data folder ``home`` listens."""
    return home / SOCKET_NAME


def home_of(argv: list[str], env: dict[str, str], cwd: Path) -> Path:
    """The data folder a command line names, as the settings would find it.

    Flag, then environment, then a ``.env`` file, then the default. Only used to
    find a launcher: the worker resolves its settings itself, so a wrong guess
    costs the fast start, never the right data folder.
    """
    for index, word in enumerate(argv):
        if word == "--home" and index + 1 < len(argv):
            return cwd / argv[index + 1]
        if word.startswith("--home="):
            return cwd / word.removeprefix("--home=")
    if value := env.get("AUDIENCESYNC_HOME"):
        return cwd / value
    return cwd / (_dotenv_home(cwd / ".env") or ".audiencesync")


def _dotenv_home(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        name, _, value = line.strip().removeprefix("export ").partition("=")
        if name.strip() == "AUDIENCESYNC_HOME":
            return value.split(" #")[0].strip().strip("'\"") or None
    return None


def connect(sock: socket.socket, path: Path) -> None:
    """Connect ``sock`` to the socket at ``path``, however long the path.

    A Unix socket's address holds at most 107 bytes; a longer path is reached
    through the folder's descriptor (``/proc/self/fd/N/NAME``, Linux).
    """
    if len(os.fsencode(path)) < _MAX_ADDRESS:
        sock.connect(str(path))
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{folder}/{path.name}")
    finally:
        os.close(folder)


def bind(sock: socket.socket, path: Path) -> None:
    """Bind ``sock`` to ``path``, however long the path (from inside its folder)."""
    if len(os.fsencode(path)) < _MAX_ADDRESS:
        sock.bind(str(path))
        return
    before = os.getcwd()  # noqa: PTH109 - restored at once
    os.chdir(path.parent)
    try:
        sock.bind(path.name)
    finally:
        os.chdir(before)


def send_request(sock: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """One length-prefixed JSON request, with ``fds`` attached to its first byte."""
    body = json.dumps(request).encode()
    data = _LENGTH.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], fds)
    if sent < len(data):
        sock.sendall(data[sent:])


def receive_request(sock: socket.socket, fds: int) -> tuple[dict[str, Any], list[int]]:
    """The request and the file descriptors sent with it (``fds`` of them).

    Raises ValueError (the descriptors closed) when the request is malformed.
    """
    data, received, _, _ = socket.recv_fds(sock, 65536, fds)
    try:
        return _parse(sock, data), received
    except (ValueError, OSError):
        for fd in received:
            os.close(fd)
        raise


def _parse(sock: socket.socket, data: bytes) -> dict[str, Any]:
    if len(data) < _LENGTH.size:
        msg = "the request ended before its length"
        raise ValueError(msg)
    (size,) = _LENGTH.unpack_from(data)
    if size > MAX_REQUEST:
        msg = "the request is too large"
        raise ValueError(msg)
    body = bytearray(data[_LENGTH.size :])
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            msg = "the request ended early"
            raise ValueError(msg)
        body += chunk
    request = json.loads(bytes(body))
    if not isinstance(request, dict):
        msg = "the request is not a JSON object"
        raise ValueError(msg)  # noqa: TRY004 - the caller handles one kind
    return request


def send_line(sock: socket.socket, message: dict[str, Any]) -> None:
    """One JSON line; a client that went away is not an error here."""
    with contextlib.suppress(OSError):
        sock.sendall(json.dumps(message).encode() + b"\n")
