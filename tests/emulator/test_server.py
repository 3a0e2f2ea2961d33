"""The emulator over a real socket: serving, dropped connections, the state file."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from audiencesync.emulator import (
    DEFAULT_API_KEY,
    Emulator,
    EmulatorConfig,
    ScriptedFault,
    serve_in_thread,
)

pytestmark = pytest.mark.socket
KEY = {"Api_Key": DEFAULT_API_KEY}


def test_serves_over_a_real_socket() -> None:
    """serve_in_thread yields a working base URL on a free port."""
    with (
        serve_in_thread(Emulator()) as base_url,
        httpx.Client(base_url=base_url, headers=KEY) as c,
    ):
        assert c.get("/api/lists").json() == {"lists": []}


def test_dropped_connection_is_a_transport_error_after_applying() -> None:
    """A drop over a socket reaches httpx as a transport error; the write happened."""
    emu = Emulator()
    with (
        serve_in_thread(emu) as base_url,
        httpx.Client(base_url=base_url, headers=KEY) as c,
    ):
        list_id = c.post("/api/lists", json={"name": "x"}).json()["listId"]
        emu.script("lists/subscribe", ScriptedFault(drop=True))
        body = {"listId": list_id, "subscribers": [{"email": "a@example.com"}]}
        with pytest.raises(httpx.TransportError):
            c.post("/api/lists/subscribe", json=body)
        assert c.get(f"/api/lists/{list_id}/size").text == "1"


def test_a_write_whose_client_left_during_the_latency_is_applied() -> None:
    """A client gone before the latency ended (a timeout, a kill) still wrote."""
    emu = Emulator(EmulatorConfig(latency=0.5))
    with (
        serve_in_thread(emu) as base_url,
        httpx.Client(base_url=base_url, headers=KEY) as c,
    ):
        list_id = c.post("/api/lists", json={"name": "x"}).json()["listId"]
        body = {"listId": list_id, "subscribers": [{"email": "a@example.com"}]}
        with pytest.raises(httpx.TimeoutException):
            c.post("/api/lists/subscribe", json=body, timeout=0.1)
        time.sleep(0.8)
        assert emu.list_members(list_id) == {"a@example.com"}
        assert emu.requests[-1].endpoint == "lists/subscribe"


def test_drop_rate_drops_writes_deterministically() -> None:
    """With drop_rate=1 every write is applied and its connection dropped."""
    emu = Emulator(EmulatorConfig(drop_rate=1.0))
    with (
        serve_in_thread(emu) as base_url,
        httpx.Client(base_url=base_url, headers=KEY) as c,
    ):
        with pytest.raises(httpx.TransportError):
            c.post("/api/lists", json={"name": "x"})
        assert len(c.get("/api/lists").json()["lists"]) == 1


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    """Lists, members and field types are saved on shutdown and loaded on start."""
    state = tmp_path / "state.json"
    config = EmulatorConfig(state_file=state)
    with (
        serve_in_thread(Emulator(config)) as base_url,
        httpx.Client(base_url=base_url, headers=KEY) as c,
    ):
        list_id = c.post("/api/lists", json={"name": "kept"}).json()["listId"]
        rows = [{"email": "a@example.com", "dataFields": {"n": 1}}]
        c.post("/api/lists/subscribe", json={"listId": list_id, "subscribers": rows})
        c.post("/api/users/forget", json={"email": "a@example.com"})
        rows = [{"email": "b@example.com", "dataFields": {"n": 2}}]
        c.post("/api/lists/subscribe", json={"listId": list_id, "subscribers": rows})
    assert state.exists()
    assert not state.with_name("state.json.tmp").exists()
    restarted = Emulator(config)
    assert restarted.list_members(list_id) == frozenset({"b@example.com"})
    project = restarted.store.projects[1]
    assert project.schema.types["n"] == "long"
    assert "a@example.com" in project.forgotten.emails
    assert restarted.store.next_list_id == list_id + 1
