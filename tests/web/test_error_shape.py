"""One error shape for every failure, and never a 500 for odd input.

A probe route (a body, a path, a query and an If-Match parameter, like the real
routes have) is added to the app, so the shared web layer is tested on its own:
malformed and unreadable bodies, wrong content types, huge and negative
numbers, NUL characters, lone surrogates, long names, odd Authorization
headers. Each answer is a 4xx whose body is :class:`ErrorBody`, and a 422
names its field in ``details.field``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel, ConfigDict, Field

from audiencesync.errors import (
    AccessDeniedError,
    AudiencesyncError,
    ConfigError,
    ConflictError,
    FatalError,
    NotFoundError,
    RetryableError,
    RuleError,
    StaleEditError,
)
from audiencesync.web.app import build_app, openapi_document
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES, ErrorBody, status_of
from audiencesync.web.etag import IfMatch, expected_revision
from tests.web.conftest import Api

PROBE = "/api/v1/probe"


class Thing(BaseModel):
    """A body like the real routes': a bounded name and a number."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=255)
    count: int = 0


router = APIRouter(responses=ERROR_RESPONSES)


@router.post("/probe/{name}")
def probe(  # noqa: PLR0917 - a route takes its parameters positionally
    name: str,
    body: Thing,
    workspace: WorkspaceDep,
    if_match: IfMatch = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Echo what it was given, for a request that passed every check."""
    revision = expected_revision(if_match)
    return {"name": name, "revision": revision, "limit": limit, "offset": offset}


@router.get("/probe/{name}")
def probe_read(name: str, workspace: WorkspaceDep) -> dict[str, Any]:
    """A second route at the probe's path (another method)."""
    return {"name": name}


@router.get("/probe-raises/{kind}")
def probe_raises(kind: str, workspace: WorkspaceDep) -> None:
    """Raise a service error, or an unexpected one."""
    if kind == "rule":
        msg = "The rule does not parse."
        raise RuleError(msg, field="where")
    msg = "a bug that mentions C00000001"
    raise RuntimeError(msg)


@pytest.fixture(scope="module")
def _probe_app() -> FastAPI:
    """An app of its own with the probe routes (the shared one stays as served)."""
    app = build_app()
    app.include_router(router, prefix="/api/v1")
    return app


@pytest.fixture
def probe_api(api: Api, _probe_app: FastAPI) -> Iterator[Api]:
    """The test API's data folder and tokens, over the app with the probe routes."""
    _probe_app.state.context = api.context
    _probe_app.state.event_streams = None
    with TestClient(_probe_app, raise_server_exceptions=False) as client:
        yield Api(client, api.context, api.tokens)


def _post(api: Api, path: str = "/x", **kwargs: Any) -> Response:
    headers = {**api.auth("admin"), **kwargs.pop("headers", {})}
    return api.client.post(f"{PROBE}{path}", headers=headers, **kwargs)


def _raw(api: Api, body: bytes, path: str = "/x") -> Response:
    return _post(api, path, content=body, headers={"Content-Type": "application/json"})


def _error(answer: Response, status: int) -> dict[str, Any]:
    """The answer's error, checked to be in the one shape with that status."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error: dict[str, Any] = ErrorBody.model_validate(answer.json()).error.model_dump()
    return error


def _invalid_field(answer: Response) -> str:
    """The field a 422 names."""
    error = _error(answer, 422)
    assert error["code"] == "invalid_request"
    field: str = error["details"]["field"]
    assert error["message"].startswith(f"{field}: ")
    return field


def test_a_valid_request_passes_every_check(probe_api: Api) -> None:
    """The probe itself answers 200 when nothing is wrong."""
    answer = _post(probe_api, json={"name": "a"}, headers={"If-Match": '"3"'})
    assert answer.status_code == 200
    assert answer.json()["revision"] == 3


def test_malformed_json_is_a_422_on_the_body(probe_api: Api) -> None:
    """A body that does not parse as JSON names the body."""
    assert _invalid_field(_raw(probe_api, b'{"name": ')) == "body"


def test_a_body_that_is_not_utf8_is_a_422_on_the_body(probe_api: Api) -> None:
    """Bytes that are not UTF-8 are invalid input, not FastAPI's bare 400."""
    assert _invalid_field(_raw(probe_api, b'{"name": "\xff\xfe"}')) == "body"


def test_a_number_too_long_to_parse_is_a_422_on_the_body(probe_api: Api) -> None:
    """5000 digits exceed Python's integer parsing limit: still a 422."""
    body = b'{"name": "a", "count": ' + b"9" * 5000 + b"}"
    assert _invalid_field(_raw(probe_api, body)) == "body"


@pytest.mark.parametrize("depth", [900, 100_000])
def test_a_deeply_nested_body_is_a_422(probe_api: Api, depth: int) -> None:
    """Nesting deeper than the parser (or the screening) goes is refused."""
    body = b'{"name": "a", "count": ' + b"[" * depth + b"]" * depth + b"}"
    assert _invalid_field(_raw(probe_api, body)) in {"body", "count"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_a_json_body_sent_as_another_type_is_a_422(
    probe_api: Api, content_type: str | None
) -> None:
    """The body is only read as JSON when it says so."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    answer = _post(probe_api, content=b'{"name": "a"}', headers=headers)
    assert _invalid_field(answer) == "body"


@pytest.mark.parametrize("count", [2**63, -(2**63) - 1, 10**40])
def test_an_integer_beyond_64_bits_in_the_body_is_a_422(
    probe_api: Api, count: int
) -> None:
    """No database column holds it: refused before any route sees it."""
    answer = _raw(probe_api, json.dumps({"name": "a", "count": count}).encode())
    assert _invalid_field(answer) == "count"


@pytest.mark.parametrize("value", ["1e999", "NaN", "Infinity"])
def test_a_non_finite_number_is_a_422(probe_api: Api, value: str) -> None:
    """JSON's non-standard numbers are not integers."""
    body = f'{{"name": "a", "count": {value}}}'.encode()
    assert _invalid_field(_raw(probe_api, body)) == "count"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=" + "9" * 5000, "limit"),
        ("offset=-5", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("offset=" + "9" * 5000, "offset"),
        ("limit=ten", "limit"),
        ("offset=%00", "offset"),
    ],
)
def test_an_out_of_range_query_number_is_a_422_naming_it(
    probe_api: Api, query: str, field: str
) -> None:
    """Negative, zero, too large, unparseable: 422 with the parameter named."""
    answer = _post(probe_api, f"/x?{query}", json={"name": "a"})
    assert _invalid_field(answer) == field
    assert answer.json()["error"]["details"]["in"] == "query"


def test_a_nul_character_in_a_body_string_is_a_422(probe_api: Api) -> None:
    """PostgreSQL refuses NUL in text: refused here, with the field."""
    assert _invalid_field(_post(probe_api, json={"name": "a\x00b"})) == "name"


def test_a_nul_character_in_a_body_key_is_a_422(probe_api: Api) -> None:
    """A key is text too."""
    answer = _post(probe_api, json={"name": "a", "x\x00": 1})
    assert _invalid_field(answer) == "x?"


def test_a_lone_surrogate_in_a_body_string_is_a_422(probe_api: Api) -> None:
    """It cannot be encoded as UTF-8 (into the database or back out)."""
    assert _invalid_field(_raw(probe_api, b'{"name": "a\\ud800"}')) == "name"


def test_a_nul_character_in_the_path_is_a_422(probe_api: Api) -> None:
    """A resource name with NUL names nothing: 422 on the path parameter."""
    answer = _post(probe_api, "/a%00b", json={"name": "a"})
    assert _invalid_field(answer) == "name"
    assert answer.json()["error"]["details"]["in"] == "path"


def test_invalid_utf8_in_the_path_is_not_an_error(probe_api: Api) -> None:
    """Undecodable bytes in the path become U+FFFD: a name like any other."""
    answer = _post(probe_api, "/a%ffb", json={"name": "a"})
    assert answer.status_code == 200
    assert answer.json()["name"] == "a\ufffdb"


def test_a_very_long_name_in_the_body_is_a_422(probe_api: Api) -> None:
    """Names are at most 255 characters."""
    assert _invalid_field(_post(probe_api, json={"name": "n" * 10_000})) == "name"


def test_an_unknown_body_field_is_a_422_naming_it(probe_api: Api) -> None:
    """Bodies forbid fields they do not know."""
    answer = _post(probe_api, json={"name": "a", "colour": "red"})
    assert _invalid_field(answer) == "colour"


def test_a_body_of_the_wrong_json_type_is_a_422(probe_api: Api) -> None:
    """A list where an object is expected."""
    assert _invalid_field(_post(probe_api, json=["name"])) == "body"


@pytest.mark.parametrize("if_match", ["abc", '"-1"', '"' + "9" * 40 + '"', "W/x"])
def test_a_malformed_if_match_is_a_412_in_the_shape(
    probe_api: Api, if_match: str
) -> None:
    """An If-Match that is no ETag of this API matches no revision: 412."""
    answer = _post(probe_api, json={"name": "a"}, headers={"If-Match": if_match})
    assert _error(answer, 412)["code"] == "stale_edit"


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer \xe9\xff\x80",
        b"Bearer ",
        b"Bearer",
        b"Basic YWRtaW46YWRtaW4=",
        b"bearer" + b" x" * 5000,
        b"\xff\xfe",
    ],
)
def test_an_odd_authorization_header_is_a_401(
    probe_api: Api, authorization: bytes
) -> None:
    """Odd bytes, no token, another scheme, a huge value: 401 in the shape."""
    headers = [(b"Authorization", authorization)]
    answer = probe_api.client.get("/api/v1/me", headers=headers)
    assert _error(answer, 401)["code"] == "unauthenticated"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_method_is_a_405_with_allow(probe_api: Api) -> None:
    """A route's other methods answer 405, the methods it has, in the shape."""
    answer = probe_api.client.delete("/api/v1/me", headers=probe_api.auth("admin"))
    assert _error(answer, 405)["code"] == "method_not_allowed"
    assert answer.headers["Allow"] == "GET"


def test_a_wrong_method_allows_every_method_of_the_path(probe_api: Api) -> None:
    """Allow lists the methods of every route at the path, not only the first."""
    answer = probe_api.client.delete(f"{PROBE}/x", headers=probe_api.auth("admin"))
    assert _error(answer, 405)["code"] == "method_not_allowed"
    assert answer.headers["Allow"] == "GET, POST"


def test_an_unknown_query_parameter_is_a_422_naming_it(probe_api: Api) -> None:
    """A misspelt parameter is refused, not silently ignored."""
    answer = _post(probe_api, "/x?limt=5", json={"name": "a"})
    assert _invalid_field(answer) == "limt"
    message = answer.json()["error"]["details"]["fields"][0]["message"]
    assert message.endswith("takes limit, offset")


def test_a_query_parameter_on_an_operation_without_any_is_a_422(
    probe_api: Api,
) -> None:
    """An operation that takes no query parameters refuses one."""
    answer = probe_api.client.get("/api/v1/me?x=1", headers=probe_api.auth("admin"))
    assert _invalid_field(answer) == "x"


def test_a_service_error_names_its_field(probe_api: Api) -> None:
    """A service's invalid-input error keeps its code and names its field."""
    answer = probe_api.client.get(
        "/api/v1/probe-raises/rule", headers=probe_api.auth("admin")
    )
    error = _error(answer, 422)
    assert error["code"] == "invalid_rule"
    assert error["details"]["field"] == "where"


def test_an_unexpected_error_is_a_500_that_tells_nothing(probe_api: Api) -> None:
    """A bug answers a generic 500 in the shape, with nothing of the exception."""
    answer = probe_api.client.get(
        "/api/v1/probe-raises/bug", headers=probe_api.auth("admin")
    )
    error = _error(answer, 500)
    assert error == {
        "code": "internal",
        "message": "Something went wrong on the server; it was logged.",
        "details": {},
    }
    assert "C00000001" not in answer.text


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("x"), 404),
        (StaleEditError("x"), 412),
        (ConflictError("x"), 409),
        (RuleError("x"), 422),
        (ConfigError("x"), 422),
        (AccessDeniedError("x"), 403),
        (RetryableError("x"), 503),
        (FatalError("x"), 422),
        (AudiencesyncError("x"), 400),
    ],
)
def test_each_kind_of_service_error_has_its_status(
    error: AudiencesyncError, status: int
) -> None:
    """The status follows what the caller should do."""
    assert status_of(error) == status


def test_every_error_status_an_operation_can_answer_is_documented() -> None:
    """Each operation documents each error status, with the one error body."""
    document = openapi_document()
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status in ERROR_RESPONSES:
                content = operation["responses"][str(status)]["content"]
                assert content["application/json"]["schema"] == ref, (path, method)


def test_fastapis_own_validation_error_body_is_not_documented() -> None:
    """The document never mentions HTTPValidationError, which is never sent."""
    text = json.dumps(openapi_document())
    assert "HTTPValidationError" not in text
    assert "ErrorBody" in text
