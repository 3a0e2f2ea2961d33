"""The :class:`Emulator`: one Starlette app in front of the store.

Every request goes through the same steps, in this order: route (unknown → 404
page), API key (→ 401), its whole body read, latency, scripted answer, random
5xx, rate limit (→ 429), body size (→ 413), the handler, and a possible dropped
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import AsyncIterator
from email.utils import formatdate
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from audiencesync.core.clock import Clock, SystemClock
from audiencesync.emulator import persistence, replies
from audiencesync.emulator.call import Call
from audiencesync.emulator.config import (
    ApiKeySpec,
    EmulatorConfig,
    KeyType,
    RequestRecord,
    ScriptedFault,
)
from audiencesync.emulator.endpoints import BY_NAME, ENDPOINTS, Endpoint, match_endpoint
from audiencesync.emulator.faults import FaultPlan
from audiencesync.emulator.limits import RateLimiter, effective_rates
from audiencesync.emulator.routes import HANDLERS
from audiencesync.emulator.store import Project, Store

logger = logging.getLogger("audiencesync.emulator")

SAVE_EVERY_SECONDS = 2.0
_PREFIXES = (("/api/", "us"), ("/eu/api/", "eu"))
_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]


class Emulator:
    """A local Iterable: projects, keys, lists and users behind Iterable's REST API."""

    def __init__(
        self, config: EmulatorConfig | None = None, *, clock: Clock | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock: Clock = clock or SystemClock()
        self.store = Store(self.config.projects)
        self._keys: dict[str, ApiKeySpec] = {k.key: k for k in self.config.keys}
        self._limiter = RateLimiter(
            effective_rates(self.config.rates)
            if self.config.rate_limits_enabled
            else {}
        )
        self._faults = FaultPlan(
            fault_rate=self.config.fault_rate,
            drop_rate=self.config.drop_rate,
            seed=self.config.seed,
        )
        self._sampler = random.Random(self.config.seed)
        self._requests: list[RequestRecord] = []
        self.dirty = False
        self.in_flight = 0  # authenticated calls being answered now
        self.peak_in_flight = 0  # the most there ever were at once
        if self.config.state_file is not None:
            persistence.load(self.store, self.config.state_file)
        self.app = Starlette(
            routes=[Route("/{path:path}", self._dispatch, methods=_METHODS)],
            lifespan=self._lifespan,
        )

    # --- public API for tests -------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request seen so far (oldest first)."""
        return self._requests

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        self._requests.clear()

    def list_members(self, list_id: int) -> frozenset[str]:
        """The members of ``list_id`` (any project), as getUsers prints them."""
        found = self.store.find_list(list_id)
        if found is None:
            return frozenset()
        project, lst = found
        return frozenset(project.identifier(user) for user in lst.members)

    def script(self, endpoint: str, fault: ScriptedFault, *, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with ``fault``.

        ``endpoint`` is an endpoint name (``"lists/subscribe"``, ``"lists/create"``)
        or a path template (``"lists"`` matches both GET and POST /api/lists).
        """
        templates = {e.template for e in ENDPOINTS}
        if endpoint not in BY_NAME and endpoint not in templates:
            msg = f"unknown endpoint {endpoint!r}; use one of {sorted(BY_NAME)}"
            raise ValueError(msg)
        self._faults.script(endpoint, fault, times)

    def clear_scripts(self) -> None:
        """Drop every scripted answer not given yet."""
        self._faults.clear_scripts()

    def save_state(self) -> None:
        """Write the state file now (no-op without one)."""
        if self.config.state_file is not None:
            persistence.save(self.store, self.config.state_file)
            self.dirty = False

    # --- request pipeline -------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1")
        for prefix, region in _PREFIXES:
            if path.startswith(prefix):
                parts = [unquote(p) for p in path[len(prefix) :].split("/")]
                found = match_endpoint(request.method, parts)
                if found is not None:
                    endpoint, param = found
                    return await self._serve(request, endpoint, param, region)
        self._record(request.method, path, 404, 0, None)
        return replies.not_found_page(request.method, request.url.path)

    async def _serve(
        self, request: Request, endpoint: Endpoint, param: str, region: str
    ) -> Response:
        public_path = "/api/" + request.url.path.split("/api/", 1)[1]
        project = self._authenticate(request, endpoint, region)
        if project is None:
            client = request.client.host if request.client else "127.0.0.1"
            self._record(request.method, endpoint.template, 401, 0, None)
            return replies.bad_api_key(client, public_path)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._authenticated(request, endpoint, param, project)
        finally:
            self.in_flight -= 1

    async def _authenticated(
        self, request: Request, endpoint: Endpoint, param: str, project: Project
    ) -> Response:
        public_path = "/api/" + request.url.path.split("/api/", 1)[1]
        # The whole request is in before the server works on it: a client that
        # leaves meanwhile (its timeout, its process killed) still has it applied.
        await request.body()
        if self.config.latency:
            await self.clock.sleep(self.config.latency)
        call = Call(
            request,
            project=project,
            store=self.store,
            param=param,
            path=public_path,
            clock=self.clock,
            config=self.config,
            sampler=self._sampler,
        )
        response, drop = await self._answer(call, endpoint)
        if endpoint.writes and response.status_code == 200:
            self.dirty = True
        self._record(
            request.method,
            endpoint.template,
            response.status_code,
            call.items,
            project.spec.project_id,
        )
        return replies.DroppedResponse(response) if drop else response

    async def _answer(self, call: Call, endpoint: Endpoint) -> tuple[Response, bool]:
        project_id = call.project.spec.project_id
        fault = self._faults.take_scripted(endpoint.name, endpoint.template)
        if fault is not None:
            await self.clock.sleep(fault.delay)
            if not fault.drop:
                return replies.scripted(
                    fault, path=call.path, project_id=project_id
                ), False
        status = self._faults.draw_status()
        if status is not None:
            return replies.server_fault(status), False
        wait = self._limiter.try_acquire(project_id, endpoint.name, self.clock.now())
        if wait:
            return self._rate_limited(call.path, project_id, wait), False
        too_big = await self._too_big(call, endpoint)
        if too_big is not None:
            return too_big, False
        response = await HANDLERS[endpoint.name](call)
        drop = fault is not None or (endpoint.writes and self._faults.draw_drop())
        return response, drop

    def _authenticate(
        self, request: Request, endpoint: Endpoint, region: str
    ) -> Project | None:
        headers = request.headers
        key = headers.get("api-key") or headers.get("api_key")
        spec = self._keys.get(key) if key else None
        if spec is None or not _may_call(spec.key_type, endpoint):
            return None
        project = self.store.projects[spec.project_id]
        return project if project.spec.region == region else None

    def _rate_limited(self, path: str, project_id: int, wait: float) -> Response:
        headers: dict[str, str] = {}
        if self.config.retry_after == "seconds":
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        elif self.config.retry_after == "date":
            when = math.ceil(self.clock.wall() + wait)
            headers["Retry-After"] = formatdate(when, usegmt=True)
        return replies.rate_limited(
            path, project_id, body=self.config.rate_limit_body, headers=headers
        )

    async def _too_big(self, call: Call, endpoint: Endpoint) -> Response | None:
        limit = self.config.max_body_bytes.get(endpoint.name)
        if limit is None:
            return None
        declared = call.request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else len(await call.request.body())
        if size <= limit:
            return None
        msg = f"Request body of {size} bytes is over the {limit}-byte limit"
        return replies.envelope(
            "BatchTooLarge", msg, status=413, params={"maxBytes": limit}
        )

    def _record(
        self,
        method: str,
        endpoint: str,
        status: int,
        items: int,
        project_id: int | None,
    ) -> None:
        requests = self._requests
        if len(requests) >= self.config.request_log_limit:
            del requests[: len(requests) // 2]
        requests.append(RequestRecord(method, endpoint, status, items, project_id))
        if logger.isEnabledFor(logging.DEBUG):
            shown = endpoint if project_id is not None or status != 404 else "<unknown>"
            logger.debug(
                "request method=%s endpoint=%s status=%d items=%d",
                method,
                shown,
                status,
                items,
            )

    # --- lifespan: periodic state saving ------------------------------------------

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        saver = asyncio.create_task(self._save_periodically())
        try:
            yield
        finally:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
            self.save_state()

    async def _save_periodically(self) -> None:
        if self.config.state_file is None:
            return
        while True:
            await asyncio.sleep(SAVE_EVERY_SECONDS)
            if self.dirty:
                self.save_state()


def _may_call(key_type: KeyType, endpoint: Endpoint) -> bool:
    if key_type is KeyType.SERVER_SIDE:
        return True
    if key_type is KeyType.READ_ONLY:
        return endpoint.read_only_ok
    return endpoint.client_side_ok
