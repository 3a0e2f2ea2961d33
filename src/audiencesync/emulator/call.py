"""The request context handed to every handler, and helpers shared by them."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from audiencesync.core.clock import Clock
from audiencesync.emulator import replies
from audiencesync.emulator.config import EmulatorConfig
from audiencesync.emulator.fields import FieldPlan
from audiencesync.emulator.store import IterableList, Project, Store


class Call:
    """One authenticated request on its way to a handler."""

    __slots__ = (
        "clock",
        "config",
        "items",
        "param",
        "path",
        "project",
        "request",
        "sampler",
        "store",
    )

    def __init__(
        self,
        request: Request,
        *,
        project: Project,
        store: Store,
        param: str,
        path: str,
        clock: Clock,
        config: EmulatorConfig,
        sampler: random.Random,
    ) -> None:
        self.request = request
        self.project = project
        self.store = store
        self.param = param
        self.path = path
        self.clock = clock
        self.config = config
        self.sampler = sampler
        self.items = 0

    async def body(self) -> dict[str, Any] | Response:
        """The JSON object body, or the 400 that refuses it."""
        raw = await self.request.body()
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return replies.envelope("BadJsonBody", f"[{self.path}] Invalid format")
        if not isinstance(parsed, dict):
            return replies.envelope(
                "BadJsonBody", f"[{self.path}] Expected a JSON object"
            )
        return parsed

    def query(self, name: str) -> str | None:
        """A query-string parameter."""
        return self.request.query_params.get(name)

    def flag(self, name: str) -> bool:
        """A boolean query-string parameter."""
        return (self.query(name) or "").lower() == "true"


Handler = Callable[[Call], Awaitable[Response]]


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def mismatch(call: Call, plan: FieldPlan) -> Response:
    return replies.envelope(
        "RequestFieldsTypesMismatched",
        plan.mismatch_message(call.project.spec.project_id),
        params={"validationErrors": plan.errors},
    )


def find_list(call: Call, raw_id: object) -> IterableList | Response:
    list_id = as_int(raw_id)
    if list_id is None:
        return replies.bad_params("listId is required and must be an integer")
    lst = call.project.lists.get(list_id)
    if lst is None:
        return replies.invalid_list(list_id, call.project.spec.project_id)
    return lst
