"""End to end over real ports: a run asked through the API lands in Iterable.

A data folder is prepared with the command line (init, a token, profiles with
messy e-mail addresses, a segment); ``audiencesync serve`` runs as a child
process and an emulator on another port. Over HTTP: a connection to the
emulator, an export, ``POST .../runs`` (202), its events followed to the end;
then the emulator's list holds exactly the segment's members.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from audiencesync.core.emails import is_valid_email
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from tests.canary import CANARY_API_KEY
from tests.web.served import run_cli, serve_process

pytestmark = pytest.mark.socket

PROFILES = """\
id,email,first_name,lifetime_value
1,ana@example.com,Ana,1500
2, Bob@Example.COM ,Bob,2500
3,carla@example,Carla,3000
4,,Dora,4000
5,eve@example.com,Eve,20
6,FRED@example.com,Fred,1001
"""
"""Big spenders: Ana, Bob (spaces, capitals), Carla (no domain), Dora (no
address) and Fred (capitals); Eve spends too little."""
SEGMENT = "Big spenders"
EXPECTED = {"ana@example.com", "bob@example.com", "fred@example.com"}
TIMEOUT = 120.0  # seconds a request (or the whole event stream) may take


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """A real emulator on its own loopback port that knows the canary key."""
    served = Emulator(EmulatorConfig(keys=(ApiKeySpec(CANARY_API_KEY),)))
    with serve_in_thread(served) as address:
        yield served, address


def prepared_home(tmp_path: Path) -> tuple[Path, str]:
    """A data folder with profiles and the segment, made by the CLI; a token."""
    home = tmp_path / "home"
    csv = tmp_path / "customers.csv"
    csv.write_text(PROFILES, encoding="utf-8")
    run_cli(home, "init")
    token = run_cli(home, "users", "token", "admin", "--label", "e2e").strip()
    run_cli(home, "profiles", "import", str(csv), "--table", "customers", "--key", "id")
    run_cli(home, "segments", "create", SEGMENT, "--where", "lifetime_value > 1000")
    return home, token


def follow(client: httpx.Client, run_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every event of the run's stream, up to and with its end event."""
    seen: list[tuple[str, dict[str, Any]]] = []
    name = "message"
    with client.stream("GET", f"/runs/{run_id}/events") as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append((name, json.loads(line.removeprefix("data: "))))
    return seen


def segment_emails(client: httpx.Client) -> set[str]:
    """The segment's members' addresses as Iterable knows people: valid, trimmed."""
    preview = client.get(
        f"/segments/{SEGMENT}/preview", params={"limit": 100, "column": "email"}
    )
    assert preview.status_code == 200
    addresses = (
        str(row["email"] or "").strip().lower() for row in preview.json()["members"]
    )
    return {address for address in addresses if is_valid_email(address)}


def test_a_run_requested_over_http_fills_the_iterable_list(
    tmp_path: Path, emulator: tuple[Emulator, str]
) -> None:
    """Connection, export, 202 run, events to the end: the list is the segment."""
    served, emulator_url = emulator
    home, token = prepared_home(tmp_path)
    with (
        serve_process(home, tmp_path / "serve.log") as base,
        httpx.Client(
            base_url=f"{base}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        ) as client,
    ):
        connection = client.post(
            "/connections",
            json={
                "name": "Emulator",
                "api_key": CANARY_API_KEY,
                "base_url": emulator_url,
                "i_agree": True,
            },
        )
        assert connection.status_code == 201, connection.text
        export = client.post(
            "/exports",
            json={
                "name": "Newsletter",
                "connection": "Emulator",
                "email_field": "email",
                "segments": [SEGMENT],
                "schedule": "manual",
            },
        )
        assert export.status_code == 201, export.text
        asked = client.post("/exports/Newsletter/runs", json={})
        assert asked.status_code == 202, asked.text
        run_id = asked.json()["id"]
        assert asked.headers["Location"] == f"/api/v1/runs/{run_id}"
        events = follow(client, run_id)
        run = client.get(f"/runs/{run_id}").json()
        wanted = segment_emails(client)
    assert [name for name, _ in events][-1] == "end"
    assert events[-1][1]["status"] == "Succeeded with rejects"
    list_id = run["segments"][0]["list_id"]
    assert set(served.list_members(list_id)) == wanted == EXPECTED
    assert CANARY_API_KEY not in connection.text
