"""Rate limits, 429 bodies, Retry-After, latency and injected faults (virtual time)."""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.core.window import RateLimit
from audiencesync.emulator import (
    ConnectionDropped,
    Emulator,
    EmulatorConfig,
    RequestRecord,
    ScriptedFault,
)
from audiencesync.emulator.config import RateLimitBody, RetryAfter
from tests.emulator.conftest import client_for, new_list, subscribe

pytestmark = pytest.mark.anyio


async def test_documented_limit_refuses_then_frees(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """getUsers allows 5 calls a minute per project; the window frees in time."""
    list_id = await new_list(client)
    statuses = [
        (
            await client.get("/api/lists/getUsers", params={"listId": list_id})
        ).status_code
        for _ in range(6)
    ]
    clock.advance(60.0)
    after = await client.get("/api/lists/getUsers", params={"listId": list_id})
    assert statuses == [200] * 5 + [429]
    assert after.status_code == 200


async def test_configured_limit_applies_to_undocumented_endpoint(
    clock: ManualClock,
) -> None:
    """`rates` adds a limit to lists/subscribe; 429 body names path and project."""
    emu = Emulator(
        EmulatorConfig(rates={"lists/subscribe": RateLimit(2, 1.0)}), clock=clock
    )
    async with client_for(emu) as c:
        list_id = await new_list(c)
        codes = [
            (await subscribe(c, list_id, {"email": "a@example.com"})) for _ in range(3)
        ]
        clock.advance(1.0)
        again = await subscribe(c, list_id, {"email": "a@example.com"})
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert codes[2].json() == {
        "msg": "Exceeded rate limit for endpoint: /api/lists/subscribe, project: 1 ",
        "code": "RateLimitExceeded",
        "params": {},
    }
    assert again.status_code == 200


async def test_undocumented_endpoints_are_unlimited_by_default(
    client: httpx.AsyncClient,
) -> None:
    """Subscribe has no published limit, so none applies unless configured."""
    list_id = await new_list(client)
    codes = {
        (await subscribe(client, list_id, {"email": "a@example.com"})).status_code
        for _ in range(50)
    }
    assert codes == {200}


async def test_rate_limits_can_be_switched_off(clock: ManualClock) -> None:
    """rate_limits_enabled=False lifts even the published limits."""
    emu = Emulator(EmulatorConfig(rate_limits_enabled=False), clock=clock)
    async with client_for(emu) as c:
        codes = {(await c.get("/api/users/getFields")).status_code for _ in range(10)}
    assert codes == {200}


@pytest.mark.parametrize(
    ("body", "retry_after", "expected_text", "expected_header"),
    [
        ("text", "none", "Rate limit exceeded. Please try again later.", None),
        ("json", "seconds", None, "1"),
        ("json", "date", None, "date"),
    ],
    ids=["text body, no header", "seconds", "HTTP-date"],
)
async def test_429_body_and_retry_after_knobs(
    clock: ManualClock,
    body: RateLimitBody,
    retry_after: RetryAfter,
    expected_text: str | None,
    expected_header: str | None,
) -> None:
    """The 429 body is JSON or text, and Retry-After is absent, seconds or a date."""
    config = EmulatorConfig(rate_limit_body=body, retry_after=retry_after)
    emu = Emulator(config, clock=clock)
    async with client_for(emu) as c:
        for _ in range(3):
            await c.get("/api/users/getFields")
        clock.advance(0.5)
        response = await c.get("/api/users/getFields")
    assert response.status_code == 429
    if expected_text is not None:
        assert response.text == expected_text
    header = response.headers.get("retry-after")
    if expected_header == "date":
        assert parsedate_to_datetime(header).timestamp() == pytest.approx(
            clock.wall() + 0.5, abs=1
        )
    else:
        assert header == expected_header


async def test_latency_is_waited_through_the_clock(clock: ManualClock) -> None:
    """Each request sleeps `latency` seconds on the injected clock."""
    emu = Emulator(EmulatorConfig(latency=0.25), clock=clock)
    async with client_for(emu) as c:
        await c.get("/api/lists")
        await c.get("/api/lists")
    assert clock.slept == [0.25, 0.25]


async def statuses_with_seed(seed: int) -> list[int]:
    """The statuses of 40 GET /api/lists calls at a 30 % fault rate."""
    emu = Emulator(EmulatorConfig(fault_rate=0.3, seed=seed, rate_limits_enabled=False))
    async with client_for(emu) as c:
        return [(await c.get("/api/lists")).status_code for _ in range(40)]


async def test_fault_rate_is_deterministic_per_seed() -> None:
    """The same seed gives the same faults; another seed gives others."""
    first, again, other = (
        await statuses_with_seed(1),
        await statuses_with_seed(1),
        await statuses_with_seed(2),
    )
    assert first == again
    assert first != other
    assert {s for s in first if s != 200} <= {500, 502, 503, 504}
    assert any(s != 200 for s in first)


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (500, "application/json", b'{"code":"Error","msg":"Internal Server Error"}'),
        (502, "text/html; charset=utf-8", None),
        (503, "text/plain; charset=utf-8", b"Request timeout. Try again later."),
        (504, None, b""),
    ],
    ids=["500 json", "502 html", "503 text", "504 empty"],
)
async def test_scripted_5xx_uses_iterable_bodies(
    emu: Emulator,
    client: httpx.AsyncClient,
    status: int,
    content_type: str | None,
    body: bytes | None,
) -> None:
    """A scripted 5xx without a body gets the usual body for its status."""
    emu.script("lists", ScriptedFault(status=status))
    response = await client.get("/api/lists")
    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    if body is not None:
        assert response.content == body


async def test_scripted_fault_is_used_up_then_real_answers_return(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    """`times` requests get the scripted answer, with its body and headers."""
    list_id = await new_list(client)
    emu.script(
        "lists/subscribe",
        ScriptedFault(
            status=429, body={"code": "RateLimitExceeded"}, headers={"Retry-After": "2"}
        ),
        times=2,
    )
    answers = [
        await subscribe(client, list_id, {"email": "a@example.com"}) for _ in range(3)
    ]
    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "2"
    assert emu.list_members(list_id) == frozenset({"a@example.com"})


async def test_scripted_drop_applies_then_raises_transport_error(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    """In-process, a drop applies the write and raises httpx.RemoteProtocolError."""
    list_id = await new_list(client)
    emu.script("lists/subscribe", ScriptedFault(drop=True))
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await subscribe(client, list_id, {"email": "a@example.com"})
    assert isinstance(caught.value, ConnectionDropped)
    assert emu.list_members(list_id) == frozenset({"a@example.com"})


async def test_script_rejects_unknown_endpoint(emu: Emulator) -> None:
    """Scripting an endpoint the emulator does not have is a ValueError."""
    with pytest.raises(ValueError, match="unknown endpoint"):
        emu.script("lists/nope", ScriptedFault())


async def test_requests_are_recorded_with_templates_and_items(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    """Each request is recorded with its endpoint template, status and item count."""
    list_id = await new_list(client)
    await subscribe(
        client, list_id, {"email": "a@example.com"}, {"email": "b@example.com"}
    )
    await client.get(f"/api/lists/{list_id}/size")
    assert emu.requests == [
        RequestRecord("POST", "lists", 200, 0, 1),
        RequestRecord("POST", "lists/subscribe", 200, 2, 1),
        RequestRecord("GET", "lists/{listId}/size", 200, 0, 1),
    ]
    emu.reset_requests()
    assert emu.requests == []


async def test_log_lines_carry_no_key_or_email(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The per-request DEBUG line names endpoint, status and count only."""
    caplog.set_level(logging.DEBUG, logger="audiencesync.emulator")
    list_id = await new_list(client)
    await subscribe(
        client, list_id, {"email": "secret@example.com", "dataFields": {"f": "value"}}
    )
    await client.get("/api/users/secret@example.com")
    # Only the emulator's own lines: this test's raw httpx client logs its URLs
    # (the product's client redacts them, see tests/contract/test_no_leaks.py).
    text = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("audiencesync")
    )
    assert "endpoint=lists/subscribe status=200 items=1" in text
    assert "secret" not in text
    assert "value" not in text
    assert "dev-key" not in text
