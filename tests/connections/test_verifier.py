"""The key check against a real emulator on a loopback port: key types and regions."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from audiencesync.auth.roles import Actor, Role
from audiencesync.connections import (
    ConnectionService,
    IterableKeyVerifier,
    KeyRejectedError,
)
from audiencesync.core.secrets import KeyRing
from audiencesync.emulator import (
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    KeyType,
    ProjectSpec,
    ProjectType,
    ScriptedFault,
    serve_in_thread,
)
from audiencesync.errors import FatalError
from audiencesync.iterable import Region
from audiencesync.store import Database
from audiencesync.store.destinations import Connection

from .conftest import EU_KEY, OTHER_KEY, US_KEY, assert_clean

pytestmark = pytest.mark.socket

READ_ONLY_KEY = "CanaryOtherKey5Gt1Ry8Ui3Op6AsRO1"
CLIENT_KEY = "CanaryOtherKey5Gt1Ry8Ui3Op6AsCS2"


def emulator() -> Emulator:
    """A US email project and an EU hybrid project, with one key of each type.

    Rate limits are off: the module's tests would exceed getUsers' 5 per minute.
    """
    return Emulator(
        EmulatorConfig(
            projects=(
                ProjectSpec(1, ProjectType.EMAIL, "us"),
                ProjectSpec(2, ProjectType.HYBRID, "eu"),
            ),
            keys=(
                ApiKeySpec(US_KEY, 1),
                ApiKeySpec(EU_KEY, 2),
                ApiKeySpec(READ_ONLY_KEY, 1, KeyType.READ_ONLY),
                ApiKeySpec(CLIENT_KEY, 1, KeyType.CLIENT_SIDE),
            ),
            rate_limits_enabled=False,
        )
    )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Emulator, str]]:
    """The emulator over a real socket, and its base URL."""
    emu = emulator()
    with serve_in_thread(emu) as url:
        yield emu, url


@pytest.fixture
def checker(served: tuple[Emulator, str]) -> IterableKeyVerifier:
    """A verifier whose data centers are the emulator's US and EU roots."""
    url = served[1]
    return IterableKeyVerifier(region_urls={Region.US: url, Region.EU: f"{url}/eu"})


def refusal(checker: IterableKeyVerifier, key: str, region: Region) -> str:
    """The message of the error the check of ``key`` in ``region`` raises."""
    with pytest.raises(KeyRejectedError) as caught:
        checker.verify(api_key=key, region=region, base_url=None)
    text = str(caught.value)
    assert_clean(text)
    return text


@pytest.mark.parametrize(
    ("key", "region"), [(US_KEY, Region.US), (EU_KEY, Region.EU)], ids=["us", "eu"]
)
def test_a_server_side_key_passes_in_its_region(
    checker: IterableKeyVerifier, key: str, region: Region
) -> None:
    """A server-side key of the project's data center is accepted."""
    checker.verify(api_key=key, region=region, base_url=None)


def test_an_eu_base_url_is_used_as_given(
    checker: IterableKeyVerifier, served: tuple[Emulator, str]
) -> None:
    """An explicit base URL keeps its path (the emulator's EU root is /eu)."""
    checker.verify(api_key=EU_KEY, region=None, base_url=f"{served[1]}/eu")


def test_an_eu_key_on_us_says_use_region_eu(checker: IterableKeyVerifier) -> None:
    """The other data center is asked, and the message names region eu."""
    text = refusal(checker, EU_KEY, Region.US)
    assert "belongs to a project in the EU data center: use region eu" in text
    assert f"…{EU_KEY[-4:]}" in text


def test_a_us_key_on_eu_says_use_region_us(checker: IterableKeyVerifier) -> None:
    """The same holds the other way round."""
    assert "use region us" in refusal(checker, US_KEY, Region.EU)


def test_an_unknown_key_is_refused_clearly(checker: IterableKeyVerifier) -> None:
    """A wrong key: Iterable's code, the last four characters and what to check."""
    text = refusal(checker, OTHER_KEY, Region.US)
    assert text.startswith(
        f"Iterable refused the API key ending …{OTHER_KEY[-4:]} (BadApiKey)."
    )
    assert "server-side key of a project in the US data center (region us)" in text


def test_a_read_only_key_is_refused(checker: IterableKeyVerifier) -> None:
    """A read-only key lists lists but cannot read members: refused as read-only."""
    assert "is a read-only key" in refusal(checker, READ_ONLY_KEY, Region.US)


def test_a_client_side_key_is_refused(checker: IterableKeyVerifier) -> None:
    """A client-side key cannot list lists: refused, naming server-side keys."""
    assert "Client-side" in refusal(checker, CLIENT_KEY, Region.US)


def test_the_check_writes_nothing(
    checker: IterableKeyVerifier, served: tuple[Emulator, str]
) -> None:
    """The probe calls are GETs only, and no list appears."""
    emu = served[0]
    emu.reset_requests()
    checker.verify(api_key=US_KEY, region=Region.US, base_url=None)
    assert {(r.method, r.endpoint) for r in emu.requests} == {
        ("GET", "lists"),
        ("GET", "lists/getUsers"),
    }
    assert emu.store.projects[1].lists == {}


def test_an_unreachable_address_is_a_clear_error() -> None:
    """Nothing listening: the error says the key could not be checked."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    checker = IterableKeyVerifier()
    with pytest.raises(FatalError, match="Could not check the API key") as caught:
        checker.verify(api_key=US_KEY, region=None, base_url=f"http://127.0.0.1:{port}")
    assert_clean(str(caught.value))


def test_an_address_that_is_no_iterable_api_is_a_clear_error(
    served: tuple[Emulator, str],
) -> None:
    """A 404 page at the address: the error asks whether it is an Iterable API."""
    checker = IterableKeyVerifier()
    with pytest.raises(FatalError, match="is this an Iterable API address"):
        checker.verify(api_key=US_KEY, region=None, base_url=f"{served[1]}/nowhere")


def test_an_eu_key_added_on_us_saves_nothing(
    checker: IterableKeyVerifier, database: Database, keyring: KeyRing
) -> None:
    """Through the service: the region error, and no connection row."""
    service = ConnectionService(
        database, Actor("ana", Role.ADMIN), keyring=keyring, verifier=checker
    )
    with pytest.raises(KeyRejectedError, match="use region eu") as caught:
        service.add("EU", api_key=EU_KEY, region="us", agreed=True)
    assert (caught.value.code, caught.value.field) == ("wrong_region", "region")
    assert caught.value.details == {"region": "eu"}
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Connection)) == 0
    assert service.add("EU", api_key=EU_KEY, region="eu", agreed=True).name == "EU"


def test_a_rate_limited_probe_says_to_wait() -> None:
    """When getUsers' five calls a minute are used up, the error says to wait."""
    emu = emulator()
    emu.script("lists/getUsers", ScriptedFault(status=429), times=5)
    with serve_in_thread(emu) as url:
        checker = IterableKeyVerifier(region_urls={Region.US: url, Region.EU: url})
        with pytest.raises(FatalError, match="rate limiting this project; wait a"):
            checker.verify(api_key=US_KEY, region=Region.US, base_url=None)
