"""``connections list/show --json`` print exactly what the API answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from audiencesync.cli import app
from tests.canary import CANARY_API_KEY
from tests.web.conftest import Api

pytestmark = pytest.mark.socket


def cli_json(api: Api, role: str, *args: str) -> Any:
    """The command's --json output, run as ``role`` on the API's data folder."""
    home = str(api.context.settings.home)
    result = CliRunner().invoke(
        app, [*args, "--json", "--as", role], env={"AUDIENCESYNC_HOME": home}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def connected(api: Api, emulator_url: str) -> Api:
    """Two connections, one shared with contributors."""
    for name, shared in (("Iterable US", False), ("Iterable shared", True)):
        answer = api.client.post(
            "/api/v1/connections",
            json={
                "name": name,
                "api_key": CANARY_API_KEY,
                "base_url": emulator_url,
                "allow_contributors": shared,
                "i_agree": True,
            },
            headers=api.auth("admin"),
        )
        assert answer.status_code == 201, answer.text
    return api


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_list_json_is_the_api_page_items(connected: Api, role: str) -> None:
    """Same items, same keys, same values."""
    answer = connected.client.get("/api/v1/connections", headers=connected.auth(role))
    assert cli_json(connected, role, "connections", "list") == answer.json()["items"]


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_show_json_is_the_api_answer(connected: Api, role: str) -> None:
    """Same object for one connection."""
    answer = connected.client.get(
        "/api/v1/connections/Iterable%20US", headers=connected.auth(role)
    )
    shown = cli_json(connected, role, "connections", "show", "Iterable US")
    assert shown == answer.json()
