"""User endpoints: update, bulkUpdate, lookups, delete, getFields, forget."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.conftest import failed, new_list, subscribe

pytestmark = pytest.mark.anyio

SUCCESS = {"msg": "", "code": "Success", "params": None}


async def update(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    """POST /api/users/update."""
    return await client.post("/api/users/update", json=body)


async def fields_of(client: httpx.AsyncClient, email: str) -> dict[str, object]:
    """The dataFields GET /api/users/{email} shows."""
    data: dict[str, object] = (await client.get(f"/api/users/{email}")).json()["user"][
        "dataFields"
    ]
    return data


async def test_update_merges_and_null_clears(client: httpx.AsyncClient) -> None:
    """Fields not sent are kept; null removes a field."""
    assert (
        await update(client, email="a@example.com", dataFields={"a": 1, "b": "x"})
    ).json() == SUCCESS
    await update(client, email="a@example.com", dataFields={"b": None, "c": True})
    data = await fields_of(client, "a@example.com")
    assert (data["a"], "b" in data, data["c"]) == (1, False, True)


async def test_update_type_mismatch_body(client: httpx.AsyncClient) -> None:
    """A value of another type than the locked one is RequestFieldsTypesMismatched."""
    await update(
        client,
        email="a@example.com",
        dataFields={"since": "2021-03-29 19:45:44 +00:00"},
    )
    response = await update(client, email="b@example.com", dataFields={"since": "GGG"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "RequestFieldsTypesMismatched"
    assert "has a data type of 'date'" in body["msg"]
    assert body["params"]["validationErrors"]["since"] == {
        "incomingTypes": ["string", "keyword"],
        "expectedType": "date",
        "_type": "UnexpectedType",
        "offendingValue": "GGG",
        "category": "user",
    }


@pytest.mark.parametrize(
    ("first", "second", "ok"),
    [
        (1, 2.5, False),
        (2.5, 1, True),
        ("text", 5, False),
        ("text", "2020-01-01", True),
        (True, "true", False),
        ({"a": 1}, [1], False),
        (["a"], ["b", "c"], True),
    ],
    ids=[
        "double into long",
        "long into double",
        "long into string",
        "date string into string",
        "string into boolean",
        "array into object",
        "string arrays",
    ],
)
async def test_type_locking_rules(
    client: httpx.AsyncClient, first: object, second: object, ok: bool
) -> None:
    """The first value fixes the type; later values must fit it."""
    await update(client, email="a@example.com", dataFields={"f": first})
    response = await update(client, email="a@example.com", dataFields={"f": second})
    assert (response.status_code == 200) is ok


async def test_iso_dates_are_stored_canonically(client: httpx.AsyncClient) -> None:
    """ISO-8601 dates are typed date and stored as yyyy-MM-dd HH:mm:ss +00:00."""
    await update(
        client, email="a@example.com", dataFields={"d": "2020-08-19T22:50:04.000+02:00"}
    )
    assert (await fields_of(client, "a@example.com"))[
        "d"
    ] == "2020-08-19 20:50:04 +00:00"
    fields = (await client.get("/api/users/getFields")).json()["fields"]
    assert fields["d"] == "date"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "not-an-email"}, 400, "InvalidEmailAddressError"),
        ({"dataFields": {}}, 400, "BadParams"),
        ({"email": "a@example.com", "dataFields": []}, 400, "BadParams"),
    ],
    ids=["invalid email", "no identifier", "dataFields not an object"],
)
async def test_update_refusals(
    client: httpx.AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    """Bad single updates get 4xx with Iterable's codes."""
    response = await client.post("/api/users/update", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_update_of_forgotten_user_is_409(client: httpx.AsyncClient) -> None:
    """users/update on a forgotten user is 409 and does not recreate it."""
    await update(client, email="a@example.com")
    assert (
        await client.post("/api/users/forget", json={"email": "a@example.com"})
    ).json() == SUCCESS
    response = await update(client, email="a@example.com")
    assert response.status_code == 409
    assert response.json()["code"] == "ForgottenUserError"
    assert (await client.get("/api/users/a@example.com")).json() == {}


async def test_get_user_shape(client: httpx.AsyncClient) -> None:
    """GET user shows identifiers, fields, list ids and Iterable's bookkeeping."""
    list_id = await new_list(client)
    await subscribe(
        client,
        list_id,
        {"email": "a@example.com", "userId": "u1", "dataFields": {"tier": "gold"}},
    )
    by_path = (await client.get("/api/users/a@example.com")).json()
    by_query = (
        await client.get("/api/users/getByEmail", params={"email": "A@example.com"})
    ).json()
    by_user_id = (await client.get("/api/users/byUserId/u1")).json()
    assert by_path == by_query == by_user_id
    user = by_path["user"]
    assert (user["email"], user["userId"]) == ("a@example.com", "u1")
    data = user["dataFields"]
    assert data["emailListIds"] == [list_id]
    assert data["tier"] == "gold"
    assert data["signupSource"] == "API"
    assert data["signupDate"].endswith(" +00:00")
    assert data["itblInternal"]["emailDomain"] == "example.com"


@pytest.mark.parametrize(
    "path",
    [
        "/api/users/ghost@example.com",
        "/api/users/byUserId/ghost",
        "/api/users/byUserId?userId=ghost",
    ],
    ids=["by email", "by userId path", "by userId query"],
)
async def test_unknown_user_is_empty_object(
    client: httpx.AsyncClient, path: str
) -> None:
    """Looking up an unknown user answers 200 {}."""
    response = await client.get(path)
    assert (response.status_code, response.json()) == (200, {})


async def test_get_user_with_invalid_email_is_400(client: httpx.AsyncClient) -> None:
    """An invalid email in the path is InvalidEmailAddressError."""
    response = await client.get("/api/users/000")
    assert response.json() == {
        "msg": "Invalid email: 000",
        "code": "InvalidEmailAddressError",
        "params": None,
    }


async def test_delete_user(client: httpx.AsyncClient) -> None:
    """DELETE removes the user; deleting again says the user does not exist."""
    await update(client, email="a@example.com")
    assert (await client.delete("/api/users/a@example.com")).json() == SUCCESS
    again = await client.delete("/api/users/a@example.com")
    assert again.status_code == 400
    assert "User does not exist" in again.json()["msg"]


async def test_forget_unknown_user_is_400(client: httpx.AsyncClient) -> None:
    """Forgetting a user that never existed says the user does not exist."""
    response = await client.post(
        "/api/users/forget", json={"email": "ghost@example.com"}
    )
    assert response.status_code == 400
    assert "User does not exist" in response.json()["msg"]


async def test_get_fields_lists_types(client: httpx.AsyncClient) -> None:
    """getFields maps each field to its locked type."""
    await update(
        client, email="a@example.com", dataFields={"n": 1, "x": 1.5, "o": {"k": 1}}
    )
    fields = (await client.get("/api/users/getFields")).json()["fields"]
    assert {k: fields[k] for k in ("n", "x", "o", "email")} == {
        "n": "long",
        "x": "double",
        "o": "object",
        "email": "string",
    }


async def test_bulk_update_reports_per_user_failures(client: httpx.AsyncClient) -> None:
    """bulkUpdate creates users and lists bad rows in failedUpdates."""
    users = [
        {"email": "a@example.com", "dataFields": {"tier": "gold"}},
        {"email": "bad@@example"},
    ]
    response = await client.post("/api/users/bulkUpdate", json={"users": users})
    assert (response.json()["successCount"], response.json()["failCount"]) == (1, 1)
    assert failed(response) == {"invalidEmails": ["bad@@example"]}


async def test_bulk_update_type_conflict_fails_whole_batch(
    client: httpx.AsyncClient,
) -> None:
    """A mistyped field in any user refuses the whole bulkUpdate."""
    users = [
        {"email": "a@example.com", "dataFields": {"n": 1}},
        {"email": "b@example.com", "dataFields": {"n": "x"}},
    ]
    response = await client.post("/api/users/bulkUpdate", json={"users": users})
    assert response.status_code == 400
    assert list(response.json()["params"]["validationErrors"]) == ["1:::n"]
    assert (await client.get("/api/users/a@example.com")).json() == {}


async def test_bulk_update_over_4_mb_is_413(client: httpx.AsyncClient) -> None:
    """A bulkUpdate body over 4 MB is refused with BatchTooLarge."""
    users = [
        {"email": f"u{n}@example.com", "dataFields": {"pad": "x" * 5000}}
        for n in range(900)
    ]
    response = await client.post("/api/users/bulkUpdate", json={"users": users})
    assert response.status_code == 413
    assert response.json()["code"] == "BatchTooLarge"


async def test_create_new_fields_false_filters_unknown_fields(
    client: httpx.AsyncClient,
) -> None:
    """With createNewFields false, unknown fields are dropped and named."""
    body = {
        "users": [{"email": "a@example.com", "dataFields": {"new": 1}}],
        "createNewFields": False,
    }
    response = await client.post("/api/users/bulkUpdate", json=body)
    assert response.json()["filteredOutFields"] == ["new"]
    assert "new" not in await fields_of(client, "a@example.com")
