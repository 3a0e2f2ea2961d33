"""Shared fixtures: asyncio, retries without waits, a clean env, PostgreSQL."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any, NoReturn

import httpx
import pytest
import sqlalchemy
import stamina
from hypothesis import settings
from sqlalchemy.pool import NullPool

from audiencesync.sync.run_log import RUN_LOG
from tests.canary import CANARY_PIECES

pytest_plugins = ["tests.reliability.figures"]  # the reliability summary table

# A Hypothesis failure prints the blob that replays it (@reproduce_failure).
settings.register_profile("audiencesync", print_blob=True)
settings.load_profile("audiencesync")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slow tests first, each group in its own order.

    pytest-xdist's ``worksteal`` gives each worker a contiguous share of the
    tests and lets an idle worker take tests from the end of another's. With the
    two-minute tests (the model's shards, two instances, the crash suites)
    first, the last tests left to share are the short ones, and no worker waits
    minutes at the end for another's last long test.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _retries_without_waiting() -> Iterator[None]:
    """Keep stamina's retry attempts but drop its backoff sleeps in every test."""
    stamina.set_testing(True, attempts=10, cap=True)
    yield
    stamina.set_testing(False)


@pytest.fixture(autouse=True)
def _run_log_as_it_was() -> Iterator[None]:
    """The run log as it was before the test: ``serve`` (even in-process) turns it on.

    Only the product's own handlers are removed, and none is ever put back:
    pytest attaches its capture handlers to a logger that does not propagate,
    phase by phase, and removes them itself.
    """
    logger = logging.getLogger(RUN_LOG)
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in list(logger.handlers):
        ours = type(handler).__module__.startswith("audiencesync.")
        if ours and handler not in handlers:
            logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture(autouse=True)
def _clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No AUDIENCESYNC_* setting or .env file of the developer leaks into a test."""
    for name in list(os.environ):
        if name.startswith("AUDIENCESYNC_") and name not in _KEPT_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


_KEPT_VARIABLES = {
    "AUDIENCESYNC_REQUIRE_CHROMIUM",
    "AUDIENCESYNC_REQUIRE_POSTGRES",
    "AUDIENCESYNC_REQUIRE_SPARK",
    "AUDIENCESYNC_TEST_POSTGRES_URL",
}


# --- the canary API key -----------------------------------------------------
# Tests that save a connection through the whole product (the role matrix, the CLI)
# use this key. Every log record of every test is checked for it: neither the key
# nor any 8-character piece of it may ever be logged, at any level.


class _CanaryWatch(logging.Handler):
    """Remembers every log record that carries a piece of the canary key."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.getMessage()} {record.exc_text or ''}"
        if any(piece in text for piece in CANARY_PIECES):
            self.leaks.append(f"{record.name}:{record.levelname}")


@pytest.fixture(autouse=True)
def _canary_key_never_logged() -> Iterator[None]:
    """Fail the test if any log record (DEBUG included) shows the canary key."""
    watch = _CanaryWatch()
    root = logging.getLogger()
    level = root.level
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(watch)
        root.setLevel(level)
    assert watch.leaks == [], f"the canary API key was logged by {watch.leaks}"


# --- never the real Iterable ----------------------------------------------
# A route or a command given a region (not a base URL) would call Iterable itself;
# tests only ever talk to the emulator. Any real transport asked for an
# iterable.com host fails as if the network were down.


def _refused(request: httpx.Request) -> None:
    if request.url.host.endswith("iterable.com"):
        msg = "tests never call the real Iterable; use the emulator's base URL"
        raise httpx.ConnectError(msg, request=request)


@pytest.fixture(autouse=True)
def _never_the_real_iterable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse, as a network error, any request to a real Iterable host."""
    send = httpx.HTTPTransport.handle_request
    send_async = httpx.AsyncHTTPTransport.handle_async_request

    def guarded(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        _refused(request)
        return send(self, request)

    async def guarded_async(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        _refused(request)
        return await send_async(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guarded)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", guarded_async)


# --- PostgreSQL -------------------------------------------------------------
# Tests that need the real server ask for ``postgres_url``: a SQLAlchemy URL whose
# connections see a fresh, empty schema (dropped afterwards). When no server answers,
# they skip with the reason, unless AUDIENCESYNC_REQUIRE_POSTGRES=1 (set by .ci/run),
# which turns that skip into a failure because CI always has PostgreSQL.

POSTGRES_SERVER = os.environ.get(
    "AUDIENCESYNC_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sqlalchemy.Engine]:
    """An engine on the test server, or a skip (a failure in CI) when it is absent."""
    engine = sqlalchemy.create_engine(
        POSTGRES_SERVER, connect_args={"connect_timeout": 3}, poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.OperationalError as exc:
        reason = (
            f"PostgreSQL is not reachable at {engine.url.render_as_string()}"
            f" ({type(exc.orig).__name__}); set AUDIENCESYNC_TEST_POSTGRES_URL"
            " to a server with trust auth to run these tests"
        )
        if os.environ.get("AUDIENCESYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (AUDIENCESYNC_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: sqlalchemy.Engine) -> Iterator[str]:
    """A URL whose connections use a new empty schema, dropped after the test."""
    schema = f"as_test_{uuid.uuid4().hex[:12]}"
    with postgres_server.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_server.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with postgres_server.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- Spark ------------------------------------------------------------------
# Tests that run segments on Spark ask for ``spark_session``: one local Spark session
# per test process (the JVM starts once, in about 6 s). Without PySpark (the
# ``spark`` extra) or Java they skip with the reason, unless
# AUDIENCESYNC_REQUIRE_SPARK=1 (set by .ci/run) makes that a failure. A test that
# starts Spark in a child process (a benchmark) asks for ``spark_installed`` instead.


@pytest.fixture(scope="session")
def spark_session() -> Any:
    """The process's local Spark session (2 cores), or a skip (a failure in CI)."""
    from audiencesync.errors import ConfigError  # noqa: PLC0415
    from audiencesync.profiles.spark_engine import spark_session  # noqa: PLC0415

    try:
        return spark_session("local[2]")
    except ConfigError as exc:
        _no_spark(str(exc))


@pytest.fixture(scope="session")
def spark_installed() -> None:
    """PySpark and Java are installed (else a skip, a failure in CI); no session."""
    if importlib.util.find_spec("pyspark") is None:
        _no_spark("PySpark (the spark extra) is not installed")
    if shutil.which("java") is None:
        _no_spark("Java is not on the PATH")


def _no_spark(reason: str) -> NoReturn:
    if os.environ.get("AUDIENCESYNC_REQUIRE_SPARK") == "1":
        pytest.fail(f"{reason} (AUDIENCESYNC_REQUIRE_SPARK=1)")
    pytest.skip(reason)
