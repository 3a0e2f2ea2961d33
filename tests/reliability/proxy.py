"""A small HTTP fault proxy on 127.0.0.1, in front of the emulator on a real port.

The client under test talks to the proxy; the proxy forwards each request to the
emulator on a fresh connection (``Connection: close`` both ways, so one TCP
connection is one request) and can, per request, be told to:

``delay``       forward, then hold the answer for ``seconds`` before sending it
``hang``        forward (the emulator applies the batch), never answer
``park``        hold the request without forwarding it; ``parked`` is set
``park_after``  forward, hold the answer; ``parked`` is set (crash tests kill
                the client then: "after send, before the response")
``reset``       answer with a TCP reset instead of forwarding
``truncate``    forward, then send the head and half the body, and close
``status``      answer ``status`` itself (a 5xx or 4xx envelope), not forwarding

Faults are scripted per path suffix (``lists/subscribe``): skip the first
``skip`` matching requests, then apply the fault to the next ``times``. Every
request is logged with its batch key (the first subscriber's email, so retries
of one batch are counted together) and what was done to it. A held request is
let go when the client closes its end (its timeout, or its death).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

WAIT = 30.0  # seconds a proxied exchange may take before the proxy gives up


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to a request (see the module's table)."""

    kind: str
    seconds: float = 0.0
    status: int = 503


@dataclass(slots=True)
class _Rule:
    suffix: str
    fault: Fault
    skip: int
    times: int


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the proxy saw."""

    path: str
    batch: str | None  # first subscriber's email, when the body has subscribers
    fault: str  # the fault's kind, or "pass"


@dataclass
class FaultProxy:
    """The proxy's script and log; served by :func:`serve_proxy`."""

    upstream: tuple[str, int]
    rules: list[_Rule] = field(default_factory=list)
    log: list[Exchange] = field(default_factory=list)
    parked: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(
        self, suffix: str, fault: Fault, *, skip: int = 0, times: int = 1
    ) -> None:
        """Apply ``fault`` to ``times`` requests to ``suffix``, ``skip`` ones later."""
        with self._lock:
            self.rules.append(_Rule(suffix, fault, skip, times))

    def clear(self) -> None:
        """No more faults: forward everything."""
        with self._lock:
            self.rules.clear()
        self.parked.clear()

    def attempts(self, suffix: str = "lists/subscribe") -> dict[str, int]:
        """Requests per batch key to ``suffix``."""
        counts: dict[str, int] = {}
        for exchange in self.log:
            if exchange.path.endswith(suffix) and exchange.batch is not None:
                counts[exchange.batch] = counts.get(exchange.batch, 0) + 1
        return counts

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for rule in self.rules:
                if not path.endswith(rule.suffix):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if rule.times > 0:
                    rule.times -= 1
                    return rule.fault
            return None

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one connection: one request, maybe with a fault."""
        try:
            request = await _read_request(reader)
            if request is None:
                return
            path, head, body = request
            fault = self._fault_for(path)
            self.log.append(
                Exchange(path, _batch_key(body), fault.kind if fault else "pass")
            )
            await self._answer(fault, reader, writer, head + body)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(
        self,
        fault: Fault | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: bytes,
    ) -> None:
        kind = fault.kind if fault else "pass"
        if kind == "reset":
            _reset(writer)
            return
        if kind == "status" and fault is not None:
            writer.write(_envelope(fault.status))
            await writer.drain()
            return
        if kind == "park":
            self.parked.set()
            await _until_closed(reader)
            return
        answer = await _forward(self.upstream, request)
        if kind in {"hang", "park_after"}:
            self.parked.set()
            await _until_closed(reader)
            return
        if kind == "delay" and fault is not None:
            await asyncio.sleep(fault.seconds)
        if kind == "truncate":
            split = answer.index(b"\r\n\r\n") + 4
            body = answer[split:]
            answer = answer[: split + max(len(body) // 2, 1) - 1]
        writer.write(answer)
        await writer.drain()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, bytes, bytes] | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1].split("?")[0]
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        if line and name.lower() != "connection":
            kept.append(line)
    kept += ["Connection: close", "", ""]
    body = await reader.readexactly(length) if length else b""
    return path, "\r\n".join(kept).encode("latin-1"), body


async def _forward(upstream: tuple[str, int], request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(*upstream)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()


async def _until_closed(reader: asyncio.StreamReader) -> None:
    """Hold until the client closes its end (or the proxy's own limit)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.read(), WAIT)


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _envelope(status: int) -> bytes:
    if status == 400:
        body = b'{"msg":"Invalid params","code":"BadParams","params":null}'
    elif status == 401:
        body = b'{"msg":"Invalid API key","code":"BadApiKey","params":null}'
    elif status == 403:
        body = b'{"msg":"Forbidden","code":"Forbidden","params":null}'
    elif status == 502:
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    else:
        body = b'{"msg":"Something went wrong","code":"GenericError","params":null}'
    reason = _REASONS.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _batch_key(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    rows = data.get("subscribers") if isinstance(data, dict) else None
    if not rows or not isinstance(rows, list) or not isinstance(rows[0], dict):
        return None
    first = rows[0].get("email") or rows[0].get("userId")
    return str(first) if first is not None else None


@contextlib.contextmanager
def serve_proxy(upstream_url: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``upstream_url``, served from its own thread."""
    parts = urlsplit(upstream_url)
    proxy = FaultProxy((parts.hostname or "127.0.0.1", parts.port or 80))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server: list[asyncio.Server] = []

    async def start() -> None:
        server.append(await asyncio.start_server(proxy.handle, "127.0.0.1", 0))
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    assert started.wait(timeout=10)
    port = server[0].sockets[0].getsockname()[1]
    proxy.url = f"http://127.0.0.1:{port}"
    try:
        yield proxy
    finally:

        async def stop() -> None:
            server[0].close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
