"""List endpoints: create, list, delete, getUsers, previewUsers, size."""

from __future__ import annotations

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.emulator import Emulator, EmulatorConfig
from tests.emulator.conftest import client_for, new_list, subscribe

pytestmark = pytest.mark.anyio


async def test_created_lists_are_listed_newest_first(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """GET /api/lists shows Standard lists with epoch-ms createdAt, newest first."""
    first = await new_list(client, "Same name")
    response = await client.post(
        "/api/lists", json={"name": "Same name", "description": "again"}
    )
    second = response.json()["listId"]
    lists = (await client.get("/api/lists")).json()["lists"]
    assert [item["id"] for item in lists] == [second, first]
    assert first >= 100_000
    assert lists[0] == {
        "id": second,
        "name": "Same name",
        "description": "again",
        "createdAt": int(clock.wall() * 1000),
        "listType": "Standard",
    }
    assert "description" not in lists[1]


@pytest.mark.parametrize(
    ("body", "code"),
    [({}, "BadParams"), ({"name": ""}, "BadParams"), (b"{nope", "BadJsonBody")],
    ids=["no name", "empty name", "malformed JSON"],
)
async def test_create_list_refuses_bad_bodies(
    client: httpx.AsyncClient, body: dict[str, object] | bytes, code: str
) -> None:
    """Creating a list without a name, or with broken JSON, is a 400."""
    if isinstance(body, bytes):
        response = await client.post("/api/lists", content=body)
    else:
        response = await client.post("/api/lists", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code


async def test_delete_list_removes_it(client: httpx.AsyncClient) -> None:
    """DELETE answers Iterable's success message and the list is gone."""
    list_id = await new_list(client)
    response = await client.delete(f"/api/lists/{list_id}")
    assert response.json() == {
        "msg": f"List {list_id} in Project 1 was successfully deleted.",
        "code": "Success",
        "params": None,
    }
    assert (await client.get("/api/lists")).json() == {"lists": []}


async def test_delete_unknown_list_is_404_not_found(client: httpx.AsyncClient) -> None:
    """Deleting a list that does not exist is a 404 NotFound."""
    response = await client.delete("/api/lists/999")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


async def test_get_users_prints_one_member_per_line(client: httpx.AsyncClient) -> None:
    """getUsers is text/plain with a newline after each identifier."""
    list_id = await new_list(client)
    await subscribe(
        client, list_id, {"email": "Ana@Example.com"}, {"email": "b@example.com"}
    )
    response = await client.get("/api/lists/getUsers", params={"listId": list_id})
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "ana@example.com\nb@example.com\n"


async def test_get_users_of_empty_list_is_empty(client: httpx.AsyncClient) -> None:
    """An empty list gives an empty body."""
    list_id = await new_list(client)
    response = await client.get("/api/lists/getUsers", params={"listId": list_id})
    assert response.status_code == 200
    assert response.text == ""


async def test_get_users_of_unknown_list_is_invalid_list_id(
    client: httpx.AsyncClient,
) -> None:
    """An unknown list id is the invalidListId 400."""
    response = await client.get("/api/lists/getUsers", params={"listId": 5})
    assert response.status_code == 400
    assert response.json()["msg"] == "error.lists.invalidListId(5)"


async def test_preview_users_is_a_seeded_sample_of_requested_size() -> None:
    """previewUsers returns `size` random members, the same for the same seed."""
    texts = []
    for _ in range(2):
        emu = Emulator(EmulatorConfig(rate_limits_enabled=False, seed=3))
        async with client_for(emu) as c:
            list_id = await new_list(c)
            rows = [{"email": f"u{n}@example.com"} for n in range(50)]
            await subscribe(c, list_id, *rows)
            response = await c.get(
                "/api/lists/previewUsers", params={"listId": list_id, "size": 10}
            )
        texts.append(response.text)
    assert texts[0] == texts[1]
    assert len(texts[0].splitlines()) == 10


async def test_size_is_a_bare_integer(client: httpx.AsyncClient) -> None:
    """GET /api/lists/{listId}/size answers the member count as plain text."""
    list_id = await new_list(client)
    await subscribe(
        client, list_id, {"email": "a@example.com"}, {"email": "b@example.com"}
    )
    response = await client.get(f"/api/lists/{list_id}/size")
    assert response.text == "2"


async def test_list_members_matches_get_users(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    """Emulator.list_members gives the identifiers getUsers prints."""
    list_id = await new_list(client)
    await subscribe(client, list_id, {"email": "A@example.com"})
    assert emu.list_members(list_id) == frozenset({"a@example.com"})
