"""Handlers of the list endpoints (``/api/lists...``)."""

from __future__ import annotations

from itertools import repeat
from typing import Any

from starlette.responses import Response

from audiencesync.emulator import replies
from audiencesync.emulator.bulk import subscribe, unsubscribe
from audiencesync.emulator.call import Call, as_int, find_list, mismatch
from audiencesync.emulator.fields import FieldPlan
from audiencesync.emulator.store import IterableList, User

PREVIEW_DEFAULT = 1000
PREVIEW_MAX = 5000


async def get_lists(call: Call) -> Response:
    """GET /api/lists: every list, newest first."""
    lists = sorted(call.project.lists.values(), key=lambda lst: lst.id, reverse=True)
    return replies.json_reply({"lists": [lst.public() for lst in lists]})


async def create_list(call: Call) -> Response:
    """POST /api/lists: a new static list."""
    body = await call.body()
    if isinstance(body, Response):
        return body
    name, description = body.get("name"), body.get("description")
    if not isinstance(name, str) or not name.strip():
        return replies.bad_params("name is required and must be a non-empty string")
    if description is not None and not isinstance(description, str):
        return replies.bad_params("description must be a string")
    lst = call.store.create_list(
        call.project,
        name,
        description=description,
        wall=call.clock.wall(),
        mono=call.clock.now(),
    )
    return replies.json_reply({"listId": lst.id})


async def delete_list(call: Call) -> Response:
    """DELETE /api/lists/{listId}: 404 NotFound when unknown."""
    project_id = call.project.spec.project_id
    list_id = as_int(call.param)
    if list_id is None:
        return replies.bad_params("listId must be an integer")
    if call.project.lists.pop(list_id, None) is None:
        msg = f"List {list_id} does not exist in Project {project_id}"
        return replies.envelope("NotFound", msg, status=404)
    msg = f"List {list_id} in Project {project_id} was successfully deleted."
    return replies.success(msg)


async def _bulk_list(
    call: Call,
) -> tuple[IterableList, list[Any], dict[str, Any]] | Response:
    body = await call.body()
    if isinstance(body, Response):
        return body
    subscribers = body.get("subscribers")
    # map(): the check runs in C, not one generator step per row (hot path).
    if not isinstance(subscribers, list) or not all(
        map(isinstance, subscribers, repeat(dict))
    ):
        return replies.bad_params("subscribers is required: a list of objects")
    call.items = len(subscribers)
    lst = find_list(call, body.get("listId"))
    if isinstance(lst, Response):
        return lst
    if call.clock.now() - lst.created_mono < call.config.new_list_invalid_seconds:
        return replies.invalid_list(lst.id, call.project.spec.project_id)
    return lst, subscribers, body


async def subscribe_list(call: Call) -> Response:
    """POST /api/lists/subscribe."""
    parsed = await _bulk_list(call)
    if isinstance(parsed, Response):
        return parsed
    lst, subscribers, body = parsed
    existing_only = bool(body.get("updateExistingUsersOnly"))
    outcome = subscribe(
        call.project,
        lst,
        subscribers,
        existing_only=existing_only,
        now=call.clock.wall(),
    )
    if isinstance(outcome, FieldPlan):
        return mismatch(call, outcome)
    return replies.json_reply(outcome.body())


async def unsubscribe_list(call: Call) -> Response:
    """POST /api/lists/unsubscribe."""
    parsed = await _bulk_list(call)
    if isinstance(parsed, Response):
        return parsed
    lst, subscribers, _ = parsed
    outcome = unsubscribe(call.project, lst, subscribers, now=call.clock.wall())
    return replies.json_reply(outcome.body())


def _lines(call: Call, users: list[User]) -> Response:
    prefer = call.flag("preferUserId")
    ident = call.project.identifier
    text = "".join([ident(user, prefer_user_id=prefer) + "\n" for user in users])
    return replies.text_reply(text)


async def get_users(call: Call) -> Response:
    """GET /api/lists/getUsers: one identifier per line."""
    lst = find_list(call, call.query("listId"))
    if isinstance(lst, Response):
        return lst
    return _lines(call, list(lst.members))


async def preview_users(call: Call) -> Response:
    """GET /api/lists/previewUsers: a seeded random sample."""
    lst = find_list(call, call.query("listId"))
    if isinstance(lst, Response):
        return lst
    size = as_int(call.query("size") or PREVIEW_DEFAULT)
    if size is None or size < 1:
        return replies.bad_params("size must be a positive integer")
    members = list(lst.members)
    sample = call.sampler.sample(members, min(size, PREVIEW_MAX, len(members)))
    return _lines(call, sample)


async def list_size(call: Call) -> Response:
    """GET /api/lists/{listId}/size: a bare integer."""
    lst = find_list(call, call.param)
    if isinstance(lst, Response):
        return lst
    return replies.text_reply(str(len(lst.members)))
