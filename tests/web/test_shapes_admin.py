"""The CLI's ``--json`` and the API answer the same shape for users, tokens,
the audit log, the refresh schedule and the system overview."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.settings import Settings
from tests.web.conftest import Api


def cli_json(settings: Settings, *args: str) -> Any:
    """``audiencesync ARGS --json --as admin`` on the API's data folder, parsed."""
    env = {"AUDIENCESYNC_HOME": str(settings.home)}
    result = CliRunner().invoke(app, [*args, "--json", "--as", "admin"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def api_json(api: Api, path: str) -> Any:
    """The API's answer to ``GET /api/v1/PATH`` as the administrator."""
    answer = api.client.get(f"/api/v1{path}", headers=api.auth("admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def busy(api: Api) -> Api:
    """The API after a few changes: a schedule, a user with an address, a token."""
    headers = api.auth("admin")
    api.client.put("/api/v1/schedule", json={"cron": "0 6 * * *"}, headers=headers)
    api.client.patch(
        "/api/v1/users/viewer", json={"email": "v@example.com"}, headers=headers
    )
    api.client.post(
        "/api/v1/users/viewer/tokens", json={"label": "ci"}, headers=headers
    )
    api.client.delete("/api/v1/users/viewer/tokens/token-1", headers=headers)
    return api


def test_users_list(busy: Api, settings: Settings) -> None:
    """``users list --json`` is the API's page of users."""
    assert cli_json(settings, "users", "list") == api_json(busy, "/users")["items"]


def test_tokens(busy: Api, settings: Settings) -> None:
    """``users tokens NAME --json`` is the API's page of that user's tokens."""
    from_api = api_json(busy, "/users/admin/tokens")["items"]  # uses admin's token
    assert cli_json(settings, "users", "tokens", "admin") == from_api
    from_api = api_json(busy, "/users/viewer/tokens")["items"]
    assert cli_json(settings, "users", "tokens", "viewer") == from_api


def test_a_created_token(busy: Api, settings: Settings) -> None:
    """``users token --json`` and ``POST .../tokens``: the same keys, bar values."""
    created = busy.client.post(
        "/api/v1/users/contributor/tokens", headers=busy.auth("admin")
    ).json()
    printed = cli_json(settings, "users", "token", "contributor")
    assert printed.keys() == created.keys()
    same = ("user", "active", "last_used_at", "revoked_at", "warning")
    assert {k: printed[k] for k in same} == {k: created[k] for k in same}


def test_one_user(busy: Api, settings: Settings) -> None:
    """``users set-email --json`` prints the user as ``GET /users/NAME`` shows it."""
    printed = cli_json(settings, "users", "set-email", "viewer", "v@example.com")
    assert printed == api_json(busy, "/users/viewer")


def test_audit(busy: Api, settings: Settings) -> None:
    """``audit --json`` is the API's page of the audit log (same limit)."""
    assert (
        cli_json(settings, "audit", "--limit", "100")
        == (api_json(busy, "/audit?limit=100")["items"])
    )


def test_schedule(busy: Api, settings: Settings) -> None:
    """``schedule show --json`` is ``GET /schedule``."""
    assert cli_json(settings, "schedule", "show") == api_json(busy, "/schedule")


def test_system(busy: Api, settings: Settings) -> None:
    """``system --json`` is ``GET /system``, a pending refresh request included."""
    busy.client.post("/api/v1/refresh", headers=busy.auth("contributor"))
    assert cli_json(settings, "system") == api_json(busy, "/system")
