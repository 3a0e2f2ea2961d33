"""lists/subscribe and lists/unsubscribe, per project type and failure bucket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.emulator import (
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    ProjectSpec,
    ProjectType,
)
from tests.emulator.conftest import client_for, failed, new_list, subscribe

pytestmark = pytest.mark.anyio

BUCKETS = [
    f"{kind}{who}"
    for kind in ("invalid", "notFound", "forgotten", "conflict", "invalidData")
    for who in ("Emails", "UserIds")
]


def project_emulator(kind: ProjectType) -> Emulator:
    """An emulator whose only project has type ``kind``."""
    config = EmulatorConfig(
        projects=(ProjectSpec(1, kind),), keys=(ApiKeySpec("k" * 32, 1),)
    )
    return Emulator(config, clock=ManualClock())


@pytest.fixture
async def typed(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a project of the parametrized type."""
    async with client_for(project_emulator(request.param), key="k" * 32) as c:
        yield c


async def test_success_shape_has_every_bucket(client: httpx.AsyncClient) -> None:
    """A 200 carries counts, deprecated arrays, ten failedUpdates arrays and fields."""
    list_id = await new_list(client)
    response = await subscribe(
        client, list_id, {"email": "a@example.com", "dataFields": {"tier": "gold"}}
    )
    assert response.json() == {
        "successCount": 1,
        "failCount": 0,
        "invalidEmails": [],
        "invalidUserIds": [],
        "failedUpdates": {key: [] for key in BUCKETS},
        "createdFields": ["tier"],
        "filteredOutFields": [],
    }


@pytest.mark.parametrize(
    "email",
    [
        "user @example.com",
        "bad@@example",
        "not-an-email",
        "x" * 250 + "@example.com",
        " a@example.com",
    ],
    ids=["space", "double at", "no at", "too long", "leading space"],
)
async def test_invalid_emails_are_rejected_lowercased(
    client: httpx.AsyncClient, email: str
) -> None:
    """Malformed emails land in invalidEmails (lowercased) and the rest succeed."""
    list_id = await new_list(client)
    response = await subscribe(
        client, list_id, {"email": email.upper()}, {"email": "ok@example.com"}
    )
    body = response.json()
    assert (body["successCount"], body["failCount"]) == (1, 1)
    assert failed(response) == {"invalidEmails": [email.lower()]}
    assert body["invalidEmails"] == [email.lower()]


async def test_resubscribing_a_member_succeeds(client: httpx.AsyncClient) -> None:
    """Subscribing a current member again is a plain success."""
    list_id = await new_list(client)
    await subscribe(client, list_id, {"email": "a@example.com"})
    response = await subscribe(client, list_id, {"email": "A@example.com"})
    assert response.json()["successCount"] == 1


@pytest.mark.parametrize(
    ("typed", "row", "extra", "buckets", "members"),
    [
        (ProjectType.EMAIL, {"userId": "u1"}, {}, {"notFoundUserIds": ["u1"]}, set()),
        (
            ProjectType.EMAIL,
            {"userId": "u1", "preferUserId": True},
            {},
            {},
            {"placeholder"},
        ),
        (
            ProjectType.EMAIL,
            {"userId": "u1", "email": "a@example.com"},
            {},
            {},
            {"a@example.com"},
        ),
        (ProjectType.USER_ID, {"userId": "u1"}, {}, {}, {"u1"}),
        (
            ProjectType.USER_ID,
            {"userId": "u1"},
            {"updateExistingUsersOnly": True},
            {"notFoundUserIds": ["u1"]},
            set(),
        ),
        (
            ProjectType.USER_ID,
            {"email": "a@example.com"},
            {},
            {"notFoundEmails": ["a@example.com"]},
            set(),
        ),
        (ProjectType.HYBRID, {"userId": "u1"}, {}, {}, {"u1"}),
        (ProjectType.HYBRID, {"email": "a@example.com"}, {}, {}, {"a@example.com"}),
        (
            ProjectType.HYBRID,
            {"email": "a@example.com"},
            {"updateExistingUsersOnly": True},
            {"notFoundEmails": ["a@example.com"]},
            set(),
        ),
        (
            ProjectType.EMAIL,
            {"email": "a@example.com"},
            {"updateExistingUsersOnly": True},
            {},
            {"a@example.com"},
        ),
    ],
    ids=[
        "email: unknown userId not found",
        "email: preferUserId makes placeholder",
        "email: email wins, userId stored",
        "userId: created",
        "userId: updateExistingUsersOnly skips",
        "userId: email alone not found",
        "hybrid: userId created",
        "hybrid: email created",
        "hybrid: updateExistingUsersOnly skips",
        "email: updateExistingUsersOnly ignored",
    ],
    indirect=["typed"],
)
async def test_project_type_rules(
    typed: httpx.AsyncClient,
    row: dict[str, object],
    extra: dict[str, object],
    buckets: dict[str, list[str]],
    members: set[str],
) -> None:
    """Each project type identifies and creates subscribers by its own rules."""
    list_id = await new_list(typed)
    response = await subscribe(typed, list_id, row, **extra)
    assert failed(response) == buckets
    text = (await typed.get("/api/lists/getUsers", params={"listId": list_id})).text
    shown = {"placeholder" if "@placeholder.email" in m else m for m in text.split()}
    assert shown == members


async def test_hybrid_conflict_fills_both_conflict_arrays() -> None:
    """In a hybrid project an email and a userId of two users is a conflict."""
    async with client_for(project_emulator(ProjectType.HYBRID), key="k" * 32) as c:
        list_id = await new_list(c)
        await subscribe(c, list_id, {"email": "a@example.com"}, {"userId": "u2"})
        response = await subscribe(
            c, list_id, {"email": "a@example.com", "userId": "u2"}
        )
    assert response.json()["failCount"] == 1
    assert failed(response) == {
        "conflictEmails": ["a@example.com"],
        "conflictUserIds": ["u2"],
    }


@pytest.mark.parametrize(
    "user_id",
    ["", "x" * 53, "trailing ", "caf\u00e9", "tab\there"],
    ids=["empty", "too long", "trailing space", "non-ascii", "non-printable"],
)
async def test_invalid_user_ids_are_rejected(user_id: str) -> None:
    """Malformed userIds land in invalidUserIds."""
    async with client_for(project_emulator(ProjectType.USER_ID), key="k" * 32) as c:
        list_id = await new_list(c)
        response = await subscribe(c, list_id, {"userId": user_id})
    assert failed(response) == {"invalidUserIds": [user_id]}


async def test_oversized_field_value_is_invalid_data(client: httpx.AsyncClient) -> None:
    """A dataFields value over 32k characters fails that row as invalidData."""
    list_id = await new_list(client)
    row = {"email": "a@example.com", "dataFields": {"note": "x" * 40_000}}
    response = await subscribe(client, list_id, row)
    assert failed(response) == {"invalidDataEmails": ["a@example.com"]}


async def test_forgotten_user_is_refused_and_not_recreated(
    client: httpx.AsyncClient, emu: Emulator
) -> None:
    """After users/forget, subscribe puts the user in forgottenEmails."""
    list_id = await new_list(client)
    await subscribe(client, list_id, {"email": "a@example.com"})
    await client.post("/api/users/forget", json={"email": "a@example.com"})
    response = await subscribe(client, list_id, {"email": "A@example.com"})
    assert failed(response) == {"forgottenEmails": ["a@example.com"]}
    assert emu.list_members(list_id) == frozenset()


async def test_type_conflict_fails_whole_call_with_row_index(
    client: httpx.AsyncClient, emu: Emulator
) -> None:
    """One row with a mistyped field refuses the call; keys are "<index>:::<field>"."""
    list_id = await new_list(client)
    await subscribe(
        client, list_id, {"email": "a@example.com", "dataFields": {"ltv": 10}}
    )
    rows = [{"email": f"u{n}@example.com", "dataFields": {"ltv": 5}} for n in range(3)]
    rows[2]["dataFields"] = {"ltv": "lots"}
    response = await subscribe(client, list_id, *rows)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "RequestFieldsTypesMismatched"
    assert body["params"]["validationErrors"] == {
        "2:::ltv": {
            "incomingTypes": ["string", "keyword"],
            "expectedType": "long",
            "_type": "UnexpectedType",
            "offendingValue": "lots",
            "category": "user",
        }
    }
    assert emu.list_members(list_id) == frozenset({"a@example.com"})


async def test_managed_fields_are_filtered_out(client: httpx.AsyncClient) -> None:
    """Iterable-managed fields in dataFields are dropped and named."""
    list_id = await new_list(client)
    row = {"email": "a@example.com", "dataFields": {"emailListIds": [1], "tier": "x"}}
    response = await subscribe(client, list_id, row)
    assert response.json()["filteredOutFields"] == ["emailListIds"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"listId": 424242, "subscribers": []}, 400, "Success"),
        ({"subscribers": []}, 400, "BadParams"),
        ({"listId": 1}, 400, "BadParams"),
        (b"[not json", 400, "BadJsonBody"),
    ],
    ids=["unknown list", "no listId", "no subscribers", "malformed JSON"],
)
async def test_subscribe_refuses_bad_requests(
    client: httpx.AsyncClient, body: dict[str, object] | bytes, status: int, code: str
) -> None:
    """Whole-request problems are 4xx with Iterable's codes."""
    if isinstance(body, bytes):
        response = await client.post("/api/lists/subscribe", content=body)
    else:
        response = await client.post("/api/lists/subscribe", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_unknown_list_body_matches_iterable(client: httpx.AsyncClient) -> None:
    """The unknown-list 400 says invalidListId with code Success."""
    response = await subscribe(client, 424242, {"email": "a@example.com"})
    assert response.json() == {
        "msg": "error.lists.invalidListId(424242)",
        "code": "Success",
        "params": {"projectId": 1, "listId": 424242},
    }


async def test_new_list_is_invalid_for_configured_seconds(clock: ManualClock) -> None:
    """A new list refuses subscribes until new_list_invalid_seconds have passed."""
    emu = Emulator(EmulatorConfig(new_list_invalid_seconds=5.0), clock=clock)
    async with client_for(emu) as c:
        list_id = await new_list(c)
        early = await subscribe(c, list_id, {"email": "a@example.com"})
        clock.advance(5.0)
        later = await subscribe(c, list_id, {"email": "a@example.com"})
    assert early.status_code == 400
    assert early.json()["msg"] == f"error.lists.invalidListId({list_id})"
    assert later.status_code == 200


async def test_unsubscribe_removes_members_and_reports_non_members(
    client: httpx.AsyncClient, emu: Emulator
) -> None:
    """Unsubscribe drops members; non-members and unknown users are notFound."""
    list_id = await new_list(client)
    other = await new_list(client, "Other")
    await subscribe(client, list_id, {"email": "a@example.com"})
    await subscribe(client, other, {"email": "b@example.com"})
    body = {
        "listId": list_id,
        "subscribers": [
            {"email": "A@example.com"},
            {"email": "b@example.com"},
            {"email": "ghost@example.com"},
        ],
        "channelUnsubscribe": False,
    }
    response = await client.post("/api/lists/unsubscribe", json=body)
    assert (response.json()["successCount"], response.json()["failCount"]) == (1, 2)
    assert failed(response) == {
        "notFoundEmails": ["b@example.com", "ghost@example.com"]
    }
    assert emu.list_members(list_id) == frozenset()
