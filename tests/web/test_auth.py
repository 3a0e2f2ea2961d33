"""Who may call the API: a valid bearer token, and nothing else."""

from __future__ import annotations

import pytest

from tests.web.conftest import Api


def test_a_request_without_a_token_is_refused_with_401(api: Api) -> None:
    """No Authorization header: 401, the error shape, and a Bearer challenge."""
    answer = api.client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_is_refused_with_401(api: Api) -> None:
    """A token nobody holds is refused the same way."""
    answer = api.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["admin", "contributor", "viewer"])
def test_a_token_acts_as_its_user(api: Api, role: str) -> None:
    """Each role's token is that user, with that role."""
    answer = api.client.get("/api/v1/me", headers=api.auth(role))
    assert answer.status_code == 200
    assert answer.json() == {"name": role, "role": role}


def test_an_unknown_route_answers_in_the_error_shape(api: Api) -> None:
    """A 404 of the router is an error body too, not FastAPI's default."""
    answer = api.client.get("/api/v1/nothing-here", headers=api.auth("admin"))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_the_openapi_document_is_served_under_api_v1(api: Api) -> None:
    """The OpenAPI document lives at /api/v1/openapi.json, docs at /api/docs."""
    assert api.client.get("/api/v1/openapi.json").json()["info"]["title"]
    assert api.client.get("/api/docs").status_code == 200
