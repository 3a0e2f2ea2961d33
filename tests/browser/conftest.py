"""Browser tests: Debian's Chromium, driven by Playwright, against a real ``serve``.

``browser`` is one headless Chromium per test process (``/usr/bin/chromium``; no
browser is ever downloaded). ``served`` starts ``audiencesync serve`` as a child
process over a fresh initialised data folder (``served_home``) and yields its base
URL. ``page`` (1280x800) and ``phone_page`` (390x844) are pages in fresh browser
contexts; ``new_page`` opens more (another locale or viewport). ``shot(page, step)``
saves a full-page screenshot to ``artifacts/screenshots/<test>/<NN>-<step>.png``;
a failed test gets one more of each of its pages (``<NN>-failed.png``).
``axe.check(page)`` runs axe-core on a page (accessibility.py); ``axe.assert_passed()``
fails listing every serious or critical violation found.

Pages never reach the internet: every request to a host other than the loopback is
blocked and recorded, and a test whose pages asked for one fails (as does one whose
pages threw an uncaught JavaScript error); ``page_watch`` shows both lists.

Without Chromium the tests skip, unless AUDIENCESYNC_REQUIRE_CHROMIUM=1 (set by
.ci/run, which installs it) turns the skip into a failure. Every test here is marked
``browser`` (and ``socket``) and has a 60-second time limit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Route,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from audiencesync.app.home import initialize
from audiencesync.settings import load_settings
from tests.browser.accessibility import Accessibility
from tests.web.served import serve_process

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--no-first-run",
    "--no-pings",
    # Names other than localhost resolve to nothing: no request leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
)

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
DEFAULT_LOCALE = "en-US"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

TEST_TIMEOUT = 120  # seconds for one test, fixtures included (a busy CI machine)
LAUNCH_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 20_000
ACTION_TIMEOUT_MS = 10_000  # a locator or expect that waits longer has failed
FAILED_SHOT_TIMEOUT_MS = 5_000


# --- markers and the failure report --------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``browser`` and ``socket``, with a time limit."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.socket)
            if item.get_closest_marker("timeout") is None:  # a test may set its own
                item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call's report on the item: a failed test screenshots its pages."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


# --- the browser -----------------------------------------------------------------


def require_chromium(path: Path = CHROMIUM) -> None:
    """Skip unless ``path`` is executable; fail if AUDIENCESYNC_REQUIRE_CHROMIUM=1."""
    if os.access(path, os.X_OK):
        return
    reason = (
        f"Chromium is not installed at {path};"
        " apt-get install chromium to run the browser tests"
    )
    if os.environ.get("AUDIENCESYNC_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"{reason} (AUDIENCESYNC_REQUIRE_CHROMIUM=1)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium for one test, closed after it.

    Not shared across tests: Playwright's sync API keeps an asyncio loop running
    on the main thread while it lives, and every later test of the same process
    that calls ``asyncio.run`` (the sync engine, the client) would fail.
    """
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=list(CHROMIUM_ARGS),
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            yield launched
        finally:
            launched.close()


# --- the server ------------------------------------------------------------------


@pytest.fixture(scope="session")
def _initialised_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder initialised as ``audiencesync init`` does, copied per test."""
    home = tmp_path_factory.mktemp("browser-template") / "home"
    initialize(load_settings(home=home))
    return home


@pytest.fixture
def served_home(tmp_path: Path, _initialised_home: Path) -> Path:
    """A fresh initialised data folder (admin: ``admin``), a copy of the template."""
    home = tmp_path / "home"
    shutil.copytree(_initialised_home, home)
    return home


@pytest.fixture
def served(served_home: Path, tmp_path: Path) -> Iterator[str]:
    """``audiencesync serve`` over ``served_home``: its base URL, ``http://127.0.0.1:N``.

    Stopped after the test, which fails if it did not stop cleanly.
    """
    with serve_process(served_home, tmp_path / "serve.log") as base:
        yield base


# --- screenshots -----------------------------------------------------------------


def _safe(name: str) -> str:
    """``name`` as a file name: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "_"


class Shot(Protocol):
    """Saves a full-page screenshot of ``page`` as the test's next step."""

    def __call__(self, page: Page, step: str) -> Path: ...


@dataclass
class Screenshots:
    """The numbered screenshots of one test, in ``folder``."""

    folder: Path
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, page: Page, step: str, timeout_ms: float | None = None) -> Path:
        """Save ``<NN>-<step>.png``, the whole page; its path."""
        path = self.folder / f"{next(self.numbers):02d}-{_safe(step)}.png"
        self.folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=True, timeout=timeout_ms)
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Screenshots:
    """``shot(page, step)``: a screenshot in ``artifacts/screenshots/<test name>/``.

    The folder is emptied first, so it holds this run's steps only.
    """
    folder = SCREENSHOTS / _safe(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    return Screenshots(folder)


# --- pages -----------------------------------------------------------------------


@dataclass
class PageWatch:
    """What the test's pages did that a test must not allow."""

    outside: list[str] = field(default_factory=list)
    """Requests to anything but the loopback (blocked)."""
    errors: list[str] = field(default_factory=list)
    """Uncaught JavaScript errors."""

    def route(self, route: Route) -> None:
        """Let loopback requests through; block and note any other."""
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            route.fallback()
            return
        self.outside.append(url)
        route.abort("blockedbyclient")


@pytest.fixture
def page_watch() -> PageWatch:
    """The test's blocked outside requests and JavaScript errors (both must be empty
    at the end; a test that expects some checks and clears them)."""
    return PageWatch()


class NewPage(Protocol):
    """Opens a page in a fresh browser context."""

    def __call__(
        self,
        *,
        viewport: ViewportSize = DESKTOP,
        locale: str = DEFAULT_LOCALE,
        mobile: bool = False,
    ) -> Page: ...


@pytest.fixture
def new_page(
    browser: Browser,
    page_watch: PageWatch,
    shot: Screenshots,
    request: pytest.FixtureRequest,
) -> Iterator[NewPage]:
    """``new_page(viewport=..., locale=..., mobile=...)``: a page in a new context.

    Contexts use UTC and reduced motion (steady screenshots) and are closed after
    the test; a failed test first screenshots each of its pages.
    """
    pages: list[Page] = []

    def open_page(
        *,
        viewport: ViewportSize = DESKTOP,
        locale: str = DEFAULT_LOCALE,
        mobile: bool = False,
    ) -> Page:
        context = browser.new_context(
            viewport=viewport,
            locale=locale,
            timezone_id="UTC",
            reduced_motion="reduce",
            is_mobile=mobile,
            has_touch=mobile,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.route("**/*", page_watch.route)
        opened = context.new_page()
        opened.on("pageerror", lambda error: page_watch.errors.append(str(error)))
        pages.append(opened)
        return opened

    yield open_page
    report = request.node.stash.get(_CALL_REPORT, None)
    for opened in pages:
        if report is not None and report.failed and not opened.is_closed():
            with contextlib.suppress(PlaywrightError):
                shot(opened, "failed", timeout_ms=FAILED_SHOT_TIMEOUT_MS)
        opened.context.close()
    assert page_watch.outside == [], (
        "pages asked for something outside the machine (blocked; the tests and the"
        f" product must work offline): {page_watch.outside}"
    )
    assert page_watch.errors == [], f"uncaught JavaScript errors: {page_watch.errors}"


@pytest.fixture
def page(new_page: NewPage, request: pytest.FixtureRequest) -> Page:
    """A 1280x800 page; its locale is ``en-US`` unless parametrized indirectly,
    e.g. ``@pytest.mark.parametrize("page", ["fr-FR"], indirect=True)``."""
    locale: str = getattr(request, "param", DEFAULT_LOCALE)
    return new_page(locale=locale)


@pytest.fixture
def phone_page(new_page: NewPage) -> Page:
    """A phone-sized page: 390x844, mobile, touch."""
    return new_page(viewport=PHONE, mobile=True)


@pytest.fixture
def axe() -> Accessibility:
    """``axe.check(page)`` runs axe-core on the page as it is (printing what it
    finds); ``axe.assert_passed()`` fails with every serious or critical violation."""
    return Accessibility()
