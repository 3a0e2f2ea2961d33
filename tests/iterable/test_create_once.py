"""create_list makes one list even when its answer is lost; not ready is not gone."""

from __future__ import annotations

import httpx
import pytest

from audiencesync.emulator import Emulator, EmulatorConfig, ScriptedFault
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable import Endpoint, IterableClient, Subscriber
from audiencesync.iterable.errors import NetworkError, RateLimitedError, ServerError
from audiencesync.iterable.retry import may_have_applied


def client_of(emulator: Emulator) -> IterableClient:
    """A client talking to ``emulator`` in process."""
    transport = httpx.ASGITransport(app=emulator.app)
    return IterableClient(
        DEFAULT_API_KEY, base_url="http://iterable.test", transport=transport
    )


async def names(client: IterableClient) -> list[tuple[int, str]]:
    """Every list of the project: (id, name), by id."""
    return sorted((found.id, found.name) for found in await client.list_lists())


@pytest.mark.anyio
async def test_a_create_dropped_after_it_was_applied_is_not_sent_again() -> None:
    """The list made before the drop is found by name and returned; no duplicate."""
    emulator = Emulator(EmulatorConfig(rate_limits_enabled=False))
    emulator.script("lists/create", ScriptedFault(drop=True), times=2)
    async with client_of(emulator) as client:
        list_id = await client.create_list("Once")
        assert await names(client) == [(list_id, "Once")]


@pytest.mark.anyio
async def test_a_known_list_of_that_name_is_not_taken_for_the_new_one() -> None:
    """With ``known``, an older list of the same name is not mistaken for ours."""
    emulator = Emulator(EmulatorConfig(rate_limits_enabled=False))
    async with client_of(emulator) as client:
        older = await client.create_list("Twin")
        emulator.script("lists/create", ScriptedFault(status=503))
        newer = await client.create_list("Twin", known={older})
        assert newer != older
        assert await names(client) == [(older, "Twin"), (newer, "Twin")]


@pytest.mark.anyio
async def test_a_listed_list_refused_as_invalid_is_not_ready_not_gone() -> None:
    """invalidListId for a list a fresh listing shows is retried until it is ready."""
    emulator = Emulator(
        EmulatorConfig(rate_limits_enabled=False, new_list_invalid_seconds=1.0)
    )
    async with client_of(emulator) as made_it:
        list_id = await made_it.create_list("Fresh")
    async with client_of(emulator) as client:  # another process: no memory of it
        [found] = [f for f in await client.list_lists() if f.id == list_id]
        client.note_listed(found)
        result = await client.subscribe(list_id, [Subscriber("ana@example.com")])
        assert result.success_count == 1
        assert emulator.list_members(list_id) == {"ana@example.com"}


def _network(cause: Exception) -> NetworkError:
    error = NetworkError("lost", endpoint=Endpoint.CREATE_LIST)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "applied"),
    [
        (ServerError("5xx", endpoint=Endpoint.CREATE_LIST, status=502), True),
        (_network(httpx.ReadTimeout("slow")), True),
        (_network(httpx.RemoteProtocolError("dropped")), True),
        (_network(httpx.ConnectError("refused")), False),
        (RateLimitedError("429", endpoint=Endpoint.CREATE_LIST, status=429), False),
    ],
    ids=["5xx", "read-timeout", "dropped", "refused", "429"],
)
def test_which_failures_may_have_applied_a_write(
    error: Exception, applied: bool
) -> None:
    """Only a request that may have reached Iterable counts as maybe applied."""
    assert may_have_applied(error) is applied
