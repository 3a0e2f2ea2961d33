"""The fault proxy does to a request what its script says (the tests rely on it)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from tests.reliability.proxy import Fault, FaultProxy, serve_proxy

pytestmark = pytest.mark.socket


@pytest.fixture
def proxied() -> Iterator[tuple[Emulator, FaultProxy]]:
    """The emulator behind the proxy."""
    emulator = Emulator(EmulatorConfig(rate_limits_enabled=False))
    with serve_in_thread(emulator) as url, serve_proxy(url) as proxy:
        yield emulator, proxy


def _lists(proxy: FaultProxy, timeout: float = 5.0) -> httpx.Response:
    return httpx.get(f"{proxy.url}/api/lists", headers={"Api-Key": DEFAULT_API_KEY},
                     timeout=timeout)  # fmt: skip


def _seen(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.endpoint == "lists")


def test_an_unscripted_request_is_forwarded(
    proxied: tuple[Emulator, FaultProxy],
) -> None:
    """No fault: the emulator's own answer, and one request logged as passed."""
    emulator, proxy = proxied
    assert _lists(proxy).status_code == 200
    assert _seen(emulator) == 1
    assert [e.fault for e in proxy.log] == ["pass"]


def test_a_status_is_answered_without_forwarding(
    proxied: tuple[Emulator, FaultProxy],
) -> None:
    """``status``: the proxy answers 503 itself; the emulator sees nothing."""
    emulator, proxy = proxied
    proxy.script("api/lists", Fault("status", status=503))
    assert _lists(proxy).status_code == 503
    assert _seen(emulator) == 0
    assert _lists(proxy).status_code == 200  # once only


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_a_broken_answer_is_a_transport_error(
    proxied: tuple[Emulator, FaultProxy], kind: str
) -> None:
    """``reset`` and ``truncate`` reach the client as transport errors."""
    emulator, proxy = proxied
    proxy.script("api/lists", Fault(kind))
    with pytest.raises(httpx.TransportError):
        _lists(proxy)
    assert _seen(emulator) == (1 if kind == "truncate" else 0)


def test_a_delay_holds_the_answer(proxied: tuple[Emulator, FaultProxy]) -> None:
    """``delay``: the answer comes, that much later."""
    _, proxy = proxied
    proxy.script("api/lists", Fault("delay", seconds=0.5))
    started = time.monotonic()
    assert _lists(proxy).status_code == 200
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize(
    ("kind", "applied"), [("park", 0), ("park_after", 1), ("hang", 1)]
)
def test_a_held_request_times_out_the_client(
    proxied: tuple[Emulator, FaultProxy], kind: str, applied: int
) -> None:
    """``park`` holds it unsent; ``park_after`` and ``hang`` after the emulator."""
    emulator, proxy = proxied
    proxy.script("api/lists", Fault(kind))
    with pytest.raises(httpx.ReadTimeout):
        _lists(proxy, timeout=0.5)
    assert proxy.parked.is_set()
    assert _seen(emulator) == applied


def test_skip_and_times_pick_the_requests(proxied: tuple[Emulator, FaultProxy]) -> None:
    """skip=1, times=2: the second and third requests get the fault."""
    _, proxy = proxied
    proxy.script("api/lists", Fault("status", status=500), skip=1, times=2)
    codes = [_lists(proxy).status_code for _ in range(4)]
    assert codes == [200, 500, 500, 200]
