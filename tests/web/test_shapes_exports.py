"""``exports list/show --json`` print exactly what the API answers."""

from __future__ import annotations

import pytest

from tests.web.conftest import Api
from tests.web.exports_setup import (
    ADMINS_ONLY,
    SHARED,
    add_connections,
    add_profiles_and_segments,
)
from tests.web.test_shapes_connections import cli_json


@pytest.fixture
def exports(api: Api) -> Api:
    """Two exports; one of them detached, one with every optional setting."""
    add_profiles_and_segments(api)
    add_connections(api)
    bodies = [
        {
            "name": "Newsletter",
            "connection": SHARED,
            "email_field": "email",
            "segments": ["France"],
            "user_id_field": "crm_id",
            "fields": {"ltv": "lifetime_value"},
            "schedule": "0 6 * * 1",
            "timezone": "Europe/Paris",
            "consent_column": "marketing_consent",
        },
        {
            "name": "Private",
            "connection": ADMINS_ONLY,
            "email_field": "email",
            "segments": ["Germany"],
        },
    ]
    for body in bodies:
        answer = api.client.post(
            "/api/v1/exports", json=body, headers=api.auth("admin")
        )
        assert answer.status_code == 201, answer.text
    detached = api.client.post(
        "/api/v1/exports/Private/detach", headers=api.auth("admin")
    )
    assert detached.status_code == 200
    return api


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_list_json_is_the_api_page_items(exports: Api, role: str) -> None:
    """Same items, same keys, same values."""
    answer = exports.client.get("/api/v1/exports", headers=exports.auth(role))
    assert cli_json(exports, role, "exports", "list") == answer.json()["items"]


@pytest.mark.parametrize("role", ["admin", "viewer"])
@pytest.mark.parametrize("name", ["Newsletter", "Private"])
def test_show_json_is_the_api_answer(exports: Api, role: str, name: str) -> None:
    """Same object for one export, attached or detached."""
    answer = exports.client.get(f"/api/v1/exports/{name}", headers=exports.auth(role))
    assert cli_json(exports, role, "exports", "show", name) == answer.json()
