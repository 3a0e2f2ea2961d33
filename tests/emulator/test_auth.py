"""Authentication, key types, regions and routing."""

from __future__ import annotations

import httpx
import pytest

from audiencesync.emulator import (
    DEFAULT_API_KEY,
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    KeyType,
    ProjectSpec,
    ProjectType,
)
from tests.emulator.conftest import client_for

pytestmark = pytest.mark.anyio


def test_default_key_is_32_characters() -> None:
    """The documented development key has the length of a real Iterable key."""
    assert len(DEFAULT_API_KEY) == 32


@pytest.mark.parametrize(
    "header", ["Api-Key", "Api_Key", "api-key", "API_KEY"], ids=lambda h: h
)
async def test_key_header_spellings_are_accepted(emu: Emulator, header: str) -> None:
    """Both header spellings work, in any letter case."""
    async with client_for(emu, key=None) as c:
        response = await c.get("/api/lists", headers={header: DEFAULT_API_KEY})
    assert response.status_code == 200


@pytest.mark.parametrize("key", [None, "wrong-key"], ids=["missing", "unknown"])
async def test_bad_key_answers_401_bad_api_key(emu: Emulator, key: str | None) -> None:
    """A missing or unknown key gets Iterable's BadApiKey body."""
    async with client_for(emu, key=key) as c:
        response = await c.get("/api/lists")
    assert response.status_code == 401
    assert response.json() == {
        "msg": "Invalid API key",
        "code": "BadApiKey",
        "params": {"ip": "127.0.0.1", "endpoint": "/api/lists"},
    }


KEYS = (
    ApiKeySpec("r" * 32, 1, KeyType.READ_ONLY),
    ApiKeySpec("c" * 32, 1, KeyType.CLIENT_SIDE),
)


@pytest.mark.parametrize(
    ("key", "method", "path", "status"),
    [
        ("r" * 32, "GET", "/api/lists", 200),
        ("r" * 32, "GET", "/api/users/getFields", 200),
        ("r" * 32, "GET", "/api/users/getByEmail?email=a@example.com", 200),
        ("r" * 32, "GET", "/api/lists/getUsers?listId=1", 401),
        ("r" * 32, "POST", "/api/lists", 401),
        ("c" * 32, "POST", "/api/users/update", 200),
        ("c" * 32, "GET", "/api/lists", 401),
        ("c" * 32, "POST", "/api/lists/subscribe", 401),
    ],
    ids=[
        "read-only lists",
        "read-only getFields",
        "read-only user lookup",
        "read-only getUsers",
        "read-only create",
        "client-side update",
        "client-side lists",
        "client-side subscribe",
    ],
)
async def test_key_types_limit_endpoints(
    key: str, method: str, path: str, status: int
) -> None:
    """Read-only and client-side keys reach only their endpoints; others get 401."""
    emu = Emulator(EmulatorConfig(keys=KEYS))
    body = {"email": "a@example.com"} if method == "POST" else None
    async with client_for(emu, key=key) as c:
        response = await c.request(method, path, json=body)
    assert response.status_code == status


async def test_eu_project_is_served_under_eu_prefix() -> None:
    """An EU project's key works on /eu/api and is a bad key on /api."""
    config = EmulatorConfig(
        projects=(ProjectSpec(7, ProjectType.HYBRID, "eu"),),
        keys=(ApiKeySpec("e" * 32, 7),),
    )
    async with client_for(Emulator(config), key="e" * 32) as c:
        eu = await c.get("/eu/api/lists")
        us = await c.get("/api/lists")
    assert eu.status_code == 200
    assert us.status_code == 401
    assert us.json()["code"] == "BadApiKey"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nothing/here"), ("GET", "/api/lists/subscribe"), ("GET", "/")],
    ids=["unknown path", "wrong method", "root"],
)
async def test_unknown_route_is_html_action_not_found(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """Routes Iterable does not have answer a 404 HTML page."""
    response = await client.request(method, path)
    assert response.status_code == 404
    assert "<title>Action not found</title>" in response.text
