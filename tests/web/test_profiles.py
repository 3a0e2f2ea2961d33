"""``/api/v1/profiles``: schema, tables, uploads and held refreshes, by role."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audiencesync.settings import Settings
from tests.web.conftest import Api
from tests.web.profile_data import load_profiles

ROLES = ("admin", "contributor", "viewer", None)
MORE = (
    b"customer_id,email,country,lifetime_value,signup_date\n"
    b"C9,z@example.com,FR,1,2026-01-01\n"
)


@pytest.fixture
def prof_api(api: Api, settings: Settings, tmp_path: Path) -> Api:
    """The API with customers and purchases imported."""
    load_profiles(settings, tmp_path)
    return api


@dataclass(frozen=True)
class Route:
    """One route call and the roles it answers with success."""

    method: str
    path: str
    allowed: frozenset[str]
    status: int = 200
    upload: bool = False
    audit: tuple[str, str] | None = None


EVERYONE = frozenset({"admin", "contributor", "viewer"})
EDITORS = frozenset({"admin", "contributor"})
ROUTES = (
    Route("GET", "/profiles/schema", EVERYONE),
    Route("GET", "/profiles/tables", EVERYONE),
    Route("GET", "/profiles/tables/customers", EVERYONE),
    Route(
        "POST",
        "/profiles/imports",
        EDITORS,
        status=201,
        upload=True,
        audit=("profiles.import", "customers"),
    ),
    # Nothing is held: administrators get 404, the others 403 before that.
    Route("POST", "/profiles/tables/customers/approve", frozenset({"admin"}), 404),
    Route("POST", "/profiles/tables/customers/discard", frozenset({"admin"}), 404),
)


def _call(api: Api, route: Route, role: str | None) -> Any:
    files = {"file": ("more.csv", MORE)} if route.upload else None
    return api.client.request(
        route.method, f"/api/v1{route.path}", files=files, headers=api.auth(role)
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_answers_each_role(
    prof_api: Api, route: Route, role: str | None
) -> None:
    """Status by role; an allowed import writes its audit event as that user."""
    before = prof_api.audit_actions()
    answer = _call(prof_api, route, role)
    expected = 401 if role is None else route.status if role in route.allowed else 403
    assert answer.status_code == expected, answer.text
    added = prof_api.audit_actions()[len(before) :]
    if route.audit is not None and answer.status_code < 300:
        assert added == [(str(role), *route.audit)]
    else:
        assert added == []


def test_schema_lists_tables_keys_rows_and_columns(prof_api: Api) -> None:
    """The schema: each table with key, rows and typed columns."""
    tables = prof_api.client.get(
        "/api/v1/profiles/schema", headers=prof_api.auth("viewer")
    ).json()
    customers = tables[0]
    assert (customers["name"], customers["key"], customers["rows"]) == (
        "customers",
        "customer_id",
        5,
    )
    assert {"name": "signup_date", "kind": "date", "type": "DATE"} in customers[
        "columns"
    ]


def test_a_table_shows_its_sources_by_file_name(prof_api: Api) -> None:
    """Sources are named by file name only, in import order, with no hold."""
    table = prof_api.client.get(
        "/api/v1/profiles/tables/customers", headers=prof_api.auth("viewer")
    ).json()
    assert [(s["file"], s["mode"]) for s in table["sources"]] == [
        ("customers.csv", "replace")
    ]
    assert table["held"] is None


def test_an_unknown_table_is_404(prof_api: Api) -> None:
    """A table that does not exist."""
    answer = prof_api.client.get(
        "/api/v1/profiles/tables/nope", headers=prof_api.auth("admin")
    )
    assert answer.status_code == 404


def test_an_upload_is_imported_and_kept_private(
    prof_api: Api, settings: Settings
) -> None:
    """201, the import's result, Location of the table; the file stays 0600."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("more.csv", MORE)},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["mode"], body["rows"], body["rows_added"]) == ("merged", 6, 1)
    assert answer.headers["Location"] == "/api/v1/profiles/tables/customers"
    [kept] = (settings.home / "uploads").glob("*/more.csv")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700


def test_an_upload_into_another_table_with_replace(prof_api: Api) -> None:
    """table, key and replace are form fields."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("tickets.jsonl", b'{"ticket": 1, "customer_id": "C1"}\n')},
        data={"table": "tickets", "key": "customer_id", "replace": "true"},
        headers=prof_api.auth("contributor"),
    )
    assert answer.status_code == 201, answer.text
    assert (answer.json()["table"], answer.json()["mode"]) == ("tickets", "created")


@pytest.mark.parametrize(
    ("name", "content"),
    [("more.txt", MORE), ("more", MORE), ("../../etc/passwd", MORE), ("", MORE)],
)
def test_an_unknown_file_type_is_422(prof_api: Api, name: str, content: bytes) -> None:
    """Only .csv, .parquet, .jsonl (.ndjson) are imported; the CLI's message."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": (name or "x", content)},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "file"


def test_a_bad_file_is_422_and_leaves_nothing(
    prof_api: Api, settings: Settings
) -> None:
    """A malformed CSV: the CLI's message, and the upload is removed."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("bad.csv", b"customer_id,email\nC1,a,b,c\n")},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_source"
    assert list((settings.home / "uploads").iterdir()) == []


def test_an_upload_without_a_file_is_422(prof_api: Api) -> None:
    """The form must carry 'file'."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        data={"table": "customers"},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 422


def test_an_unknown_form_field_is_422_naming_it(prof_api: Api) -> None:
    """Like JSON bodies, an upload takes no field it does not know."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("more.csv", MORE)},
        data={"tabel": "customers"},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "tabel"


def test_a_bad_replace_flag_is_422(prof_api: Api) -> None:
    """replace is true or false."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("more.csv", MORE)},
        data={"replace": "perhaps"},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "replace"


def test_an_upload_over_the_limit_is_413(
    prof_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Content-Length over the cap is refused before anything is read."""
    from audiencesync.web import uploads  # noqa: PLC0415

    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("more.csv", MORE)},
        headers=prof_api.auth("admin"),
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


def test_a_viewer_upload_is_refused_before_saving(
    prof_api: Api, settings: Settings
) -> None:
    """403, and no file is written."""
    answer = prof_api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("more.csv", MORE)},
        headers=prof_api.auth("viewer"),
    )
    assert answer.status_code == 403
    assert not (settings.home / "uploads").exists()
