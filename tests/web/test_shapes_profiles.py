"""The CLI's ``profiles ... --json`` and the API answer the same JSON."""

from __future__ import annotations

from pathlib import Path

from audiencesync.settings import Settings
from tests.web.conftest import Api
from tests.web.profile_data import load_profiles
from tests.web.shapes import cli_json

MORE = (
    b"customer_id,email,country,lifetime_value,signup_date\n"
    b"C9,z@example.com,FR,1,2026-01-01\n"
)


def test_schema_is_get_schema(api: Api, settings: Settings, tmp_path: Path) -> None:
    """``profiles schema --json`` is ``GET /profiles/schema``."""
    load_profiles(settings, tmp_path)
    answer = api.client.get("/api/v1/profiles/schema", headers=api.auth("admin"))
    assert cli_json(settings, "profiles", "schema") == answer.json()


def test_tables_carry_the_schema_fields(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """Each table of ``GET /profiles/tables`` is the schema's table plus imports."""
    load_profiles(settings, tmp_path)
    tables = api.client.get("/api/v1/profiles/tables", headers=api.auth("admin")).json()
    schema = cli_json(settings, "profiles", "schema")
    assert [
        {key: t[key] for key in s} for t, s in zip(tables, schema, strict=True)
    ] == schema


def test_import_prints_the_upload_answer(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """``profiles import FILE --json`` and ``POST /profiles/imports``: one shape."""
    load_profiles(settings, tmp_path)
    source = tmp_path / "more.csv"
    source.write_bytes(MORE)
    cli = cli_json(settings, "profiles", "import", str(source))
    answer = api.client.post(
        "/api/v1/profiles/imports",
        files={"file": ("more.csv", MORE)},
        headers=api.auth("admin"),
    ).json()
    assert cli.keys() == answer.keys()
    same = {"table", "mode", "rows_added", "key", "columns"}
    assert {k: cli[k] for k in same} == {k: answer[k] for k in same} | {"rows_added": 1}
    assert (cli["rows_updated"], answer["rows_updated"]) == (0, 1)
