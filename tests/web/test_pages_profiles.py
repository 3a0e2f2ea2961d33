"""Data > Profiles in the pages: tables, columns, rows and sources; the upload form."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from audiencesync.errors import AudiencesyncError
from audiencesync.settings import Settings
from tests.web.conftest import Api
from tests.web.profile_data import CUSTOMERS, load_profiles
from tests.web.test_pages import _csrf, sign_in

ADMIN_PASSWORD = "correct horse 9"
MORE = (
    b"customer_id,email,country,lifetime_value,signup_date\n"
    b"C9,z@example.com,FR,1,2026-01-01\n"
)
MALFORMED = b"customer_id,email\nC1,a,b,c\n"


@pytest.fixture
def loaded(api: Api, settings: Settings, tmp_path: Path) -> Api:
    """The pages over customers (5 rows, from customers.csv) and purchases."""
    load_profiles(settings, tmp_path)
    return api


def _signed_in(api: Api, role: str) -> TestClient:
    if role == "admin":
        with api.workspace() as workspace:
            workspace.users.set_password("admin", ADMIN_PASSWORD)
        sign_in(api.client, "admin", ADMIN_PASSWORD)
    else:
        sign_in(api.client, role)
    return api.client


def _upload(
    client: TestClient,
    name: str,
    content: bytes,
    *,
    csrf: str | None = None,
    **fields: str,
) -> Response:
    token = _csrf(client.get("/profiles").text) if csrf is None else csrf
    return client.post(
        "/profiles/upload",
        data={"csrf": token, **fields},
        files={"file": (name, content)},
    )


def _rows(api: Api, table: str = "customers") -> int | None:
    with api.workspace() as workspace:
        return workspace.profiles.table(table).table.rows


def _cli_message(api: Api, tmp_path: Path, name: str, content: bytes) -> str:
    """What ``profiles import`` says of this file (the same service call)."""
    path = tmp_path / name
    path.write_bytes(content)
    with api.workspace() as workspace:
        try:
            workspace.profiles.import_file(path)
        except AudiencesyncError as exc:
            return str(exc)
    raise AssertionError(name)


@pytest.mark.parametrize("role", ["admin", "contributor", "viewer"])
def test_every_role_reads_tables_columns_rows_and_sources(
    loaded: Api, role: str
) -> None:
    """Each table with its key, row count, columns and source files."""
    page = _signed_in(loaded, role).get("/profiles")

    assert page.status_code == 200
    assert "<h1>Profiles</h1>" in page.text
    assert 'id="table-customers"' in page.text
    assert 'id="table-purchases"' in page.text
    assert '<dd data-rows="customers">5</dd>' in page.text
    assert "<td>lifetime_value</td>" in page.text
    assert "<td>customers.csv</td>" in page.text


def test_a_viewer_sees_no_upload_form(loaded: Api) -> None:
    """No form, no file field for viewers."""
    page = _signed_in(loaded, "viewer").get("/profiles").text

    assert 'action="/profiles/upload"' not in page
    assert 'type="file"' not in page


@pytest.mark.parametrize("role", ["admin", "contributor"])
def test_importers_see_the_upload_form(loaded: Api, role: str) -> None:
    """Administrators and contributors get the form, its options labelled."""
    page = _signed_in(loaded, role).get("/profiles").text

    for field in ("file", "table", "key"):
        assert f'<label for="{field}">' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_viewers_upload_is_refused_and_nothing_saved(
    loaded: Api, settings: Settings
) -> None:
    """The server refuses a forged upload (403 page) before reading it."""
    answer = _upload(_signed_in(loaded, "viewer"), "more.csv", MORE)

    assert answer.status_code == 403
    assert "<h1>You may not do this</h1>" in answer.text
    assert not (settings.home / "uploads").exists()
    assert _rows(loaded) == 5


def test_a_good_upload_shows_the_new_row_count(loaded: Api) -> None:
    """Merged by key: back on the page, which says the table now has 6 rows."""
    answer = _upload(_signed_in(loaded, "contributor"), "more.csv", MORE)

    assert answer.url.path == "/profiles"
    assert answer.url.params["imported"] == "customers"
    assert "The file was imported into customers, which now has 6 rows." in answer.text
    assert '<dd data-rows="customers">6</dd>' in answer.text
    assert "<td>more.csv</td>" in answer.text
    assert _rows(loaded) == 6


def test_an_upload_into_a_new_table_with_its_options(loaded: Api) -> None:
    """table, key and replace are the API's options; the new table is listed."""
    answer = _upload(
        _signed_in(loaded, "admin"),
        "tickets.jsonl",
        b'{"ticket": 1, "customer_id": "C1"}\n{"ticket": 2, "customer_id": "C2"}\n',
        table="tickets",
        key="ticket",
        replace="true",
    )

    assert 'id="table-tickets"' in answer.text
    assert '<dd data-rows="tickets">2</dd>' in answer.text
    assert _rows(loaded, "tickets") == 2


def test_a_malformed_file_says_the_clis_message_by_the_file(
    loaded: Api, settings: Settings, tmp_path: Path
) -> None:
    """422, the CLI's words next to the file field; nothing imported or kept."""
    expected = _cli_message(loaded, tmp_path, "bad.csv", MALFORMED)

    answer = _upload(_signed_in(loaded, "admin"), "bad.csv", MALFORMED)

    assert answer.status_code == 422
    assert 'id="file-error"' in answer.text
    assert html.escape(expected) in answer.text
    assert list((settings.home / "uploads").iterdir()) == []
    assert _rows(loaded) == 5


def test_a_wrong_key_column_is_said_by_the_key_and_the_options_stay(
    loaded: Api,
) -> None:
    """The key error by its field; the table and key typed are still there."""
    answer = _upload(_signed_in(loaded, "admin"), "tickets.csv",
                     b"ticket,customer_id\n1,C1\n", table="tickets",
                     key="nope")  # fmt: skip

    assert answer.status_code == 422
    assert 'id="key-error"' in answer.text
    assert 'aria-describedby="key-error key-hint"' in answer.text
    assert 'value="tickets"' in answer.text
    assert 'value="nope"' in answer.text


@pytest.mark.parametrize("name", ["more.txt", "more"])
def test_an_unknown_file_type_is_said_by_the_file(loaded: Api, name: str) -> None:
    """Only CSV, Parquet and JSON lines: the CLI's message by the file field."""
    answer = _upload(_signed_in(loaded, "admin"), name, MORE)

    assert answer.status_code == 422
    assert 'id="file-error"' in answer.text
    assert _rows(loaded) == 5


def test_a_bad_table_name_is_said_by_the_table(loaded: Api) -> None:
    """The store's table name rule, next to the table field."""
    answer = _upload(_signed_in(loaded, "admin"), "more.csv", MORE, table="1st")

    assert answer.status_code == 422
    assert 'id="table-error"' in answer.text
    assert "The table name “1st” is not valid" in answer.text


def test_an_unknown_option_is_said_on_the_page(loaded: Api) -> None:
    """A field the import does not take (a forged form): said at the top, 422."""
    answer = _upload(_signed_in(loaded, "admin"), "more.csv", MORE, mode="append")

    assert answer.status_code == 422
    assert "Unknown form field &#39;mode&#39;" in answer.text
    assert _rows(loaded) == 5


def test_an_upload_without_the_forms_token_is_refused(loaded: Api) -> None:
    """No CSRF token of this session: refused, nothing imported."""
    answer = _upload(_signed_in(loaded, "admin"), "more.csv", MORE, csrf="forged")

    assert answer.status_code == 403
    assert "The form expired; send it again." in answer.text
    assert _rows(loaded) == 5


def test_an_upload_over_the_limit_is_said_by_the_file(
    loaded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's size limit, refused before reading; said next to the file field."""
    from audiencesync.web import uploads  # noqa: PLC0415

    client = _signed_in(loaded, "admin")
    csrf = _csrf(client.get("/profiles").text)
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)

    answer = _upload(client, "more.csv", MORE, csrf=csrf)

    assert answer.status_code == 413
    assert 'id="file-error"' in answer.text
    assert _rows(loaded) == 5


def test_an_empty_store_says_so(api: Api) -> None:
    """No table yet: the page says so and offers the upload."""
    page = _signed_in(api, "contributor").get("/profiles").text

    assert "No profile table yet." in page
    assert 'action="/profiles/upload"' in page


def test_the_page_and_its_refusals_are_in_french(loaded: Api) -> None:
    """Labels and the success notice in French, numbers the French way."""
    client = _signed_in(loaded, "admin")
    client.post("/language", data={"lang": "fr", "back": "/profiles"})

    answer = _upload(client, "more.csv", MORE)

    assert "Téléverser un fichier" in answer.text
    assert "qui compte maintenant 6 lignes" in answer.text


@pytest.fixture
def held(loaded: Api, tmp_path: Path) -> Api:
    """customers.csv rewritten with one customer: its refresh is held (4 of 5 go)."""
    source = tmp_path / "customers.csv"
    header = CUSTOMERS.splitlines()[0]
    source.write_text(f"{header}\nC1,ana@example.com,FR,1,2026-01-10\n", "utf-8")
    later = source.stat().st_mtime_ns + 10**9
    os.utime(source, ns=(later, later))
    with loaded.workspace() as workspace:
        assert workspace.profiles.refresh_table("customers").hold is not None
    return loaded


def _decide(client: TestClient, decision: str) -> Response:
    token = _csrf(client.get("/profiles").text)
    return client.post(f"/profiles/tables/customers/{decision}", data={"csrf": token})


@pytest.mark.parametrize(("decision", "rows"), [("approve", 1), ("discard", 5)])
def test_an_administrator_decides_a_held_refresh(
    held: Api, decision: str, rows: int
) -> None:
    """The hold and its removals; Approve applies it, Discard keeps the rows."""
    client = _signed_in(held, "admin")
    assert "it would remove 4 rows" in client.get("/profiles").text

    answer = _decide(client, decision)

    assert 'id="held-customers"' not in answer.text
    assert f'<dd data-rows="customers">{rows}</dd>' in answer.text


def test_a_contributor_sees_the_hold_without_deciding(held: Api) -> None:
    """No Approve or Discard for a contributor, and the server refuses them (403)."""
    client = _signed_in(held, "contributor")
    page = client.get("/profiles").text

    answer = _decide(client, "approve")

    assert 'id="held-customers"' in page
    assert "/profiles/tables/customers/approve" not in page
    assert answer.status_code == 403
    assert _rows(held) == 5
