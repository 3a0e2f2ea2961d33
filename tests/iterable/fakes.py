"""A small in-memory fake Iterable: a route table behind ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
Step = httpx.Response | BaseException

CANARY_KEY = "CANARYkey0123456789abcdefCANARY99"


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    """A JSON response (``Success`` envelope by default)."""
    if body is None:
        body = {"msg": "", "code": "Success", "params": None}
    return httpx.Response(status, content=orjson.dumps(body), headers=headers)


def fail(status: int, code: str = "", msg: str = "", **headers: str) -> httpx.Response:
    """An Iterable error envelope."""
    return ok({"msg": msg, "code": code, "params": None}, status, **headers)


def bulk_ok(request: httpx.Request) -> httpx.Response:
    """Everyone in the request accepted."""
    body = orjson.loads(request.content)
    users = body.get("subscribers", body.get("users", []))
    return ok({"successCount": len(users), "failCount": 0, "failedUpdates": {}})


class FakeIterable:
    """Records every request; answers from scripted steps, then from routes."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.scripts: dict[tuple[str, str], deque[Step]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay_ticks = 0

    @property
    def transport(self) -> httpx.MockTransport:
        """The transport to hand to the client."""
        return httpx.MockTransport(self.handle)

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` with ``handler`` (after any scripted steps)."""
        self.routes[method, path] = handler

    def script(self, method: str, path: str, *steps: Step) -> None:
        """Answer the next calls with ``steps`` (responses or exceptions to raise)."""
        self.scripts.setdefault((method, path), deque()).extend(steps)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        """Requests recorded for one route."""
        return [r for r in self.requests if r.method == method and r.url.path == path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """The MockTransport handler."""
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(self.delay_ticks):
                await asyncio.sleep(0)
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        steps = self.scripts.get(key)
        if steps:
            step = steps.popleft()
            if isinstance(step, BaseException):
                raise step
            return step
        handler = self.routes.get(key)
        if handler is None:
            return httpx.Response(404, text="<html>Action not found</html>")
        answer = handler(request)
        if isinstance(answer, httpx.Response):
            return answer
        return await answer
