"""The browser fixtures themselves: the Chromium check, the offline guard, the pages."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, PageWatch, Shot, require_chromium

MISSING = Path("/nonexistent/chromium")


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    header = path.read_bytes()[:24]
    assert header.startswith(b"\x89PNG\r\n\x1a\n"), path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_a_missing_chromium_skips_with_the_way_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Locally, the browser tests skip and say what to install."""
    monkeypatch.delenv("AUDIENCESYNC_REQUIRE_CHROMIUM", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_chromium(MISSING)


def test_a_missing_chromium_fails_where_it_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With AUDIENCESYNC_REQUIRE_CHROMIUM=1 (CI), the skip is a failure."""
    monkeypatch.setenv("AUDIENCESYNC_REQUIRE_CHROMIUM", "1")
    with pytest.raises(pytest.fail.Exception, match="/nonexistent/chromium"):
        require_chromium(MISSING)


def test_pages_never_reach_outside_the_machine(
    page: Page, page_watch: PageWatch
) -> None:
    """A request to another host is blocked and noted (the test then fails)."""
    outside = "http://example.com/pixel.png"
    with page.expect_event("requestfailed") as failed:
        page.set_content(f'<img src="{outside}" alt="">')
    assert failed.value.url == outside
    assert (failed.value.failure or "").startswith("net::ERR_BLOCKED_BY_CLIENT")
    assert page_watch.outside == [outside]
    page_watch.outside.clear()  # expected here; any other test would fail


def test_uncaught_javascript_errors_are_noted(
    page: Page, page_watch: PageWatch
) -> None:
    """A page's uncaught error is kept (the test then fails)."""
    page.set_content("<script>throw new Error('boom')</script>")
    assert any("boom" in error for error in page_watch.errors), page_watch.errors
    page_watch.errors.clear()  # expected here; any other test would fail


def test_the_page_is_a_desktop_window_and_its_steps_are_numbered(
    page: Page, shot: Shot
) -> None:
    """1280x800; shots go to artifacts/screenshots/<test>/<NN>-<step>.png."""
    page.set_content("<h1>First</h1>")
    expect(page.get_by_role("heading")).to_have_text("First")
    first = shot(page, "first step")
    page.set_content("<h1>Second</h1>" + "<p>line</p>" * 100)
    second = shot(page, "second/step")
    folder = (
        SCREENSHOTS
        / test_the_page_is_a_desktop_window_and_its_steps_are_numbered.__name__
    )
    assert (first, second) == (
        folder / "01-first_step.png",
        folder / "02-second_step.png",
    )
    assert png_size(first) == (1280, 800)
    width, height = png_size(second)  # the whole page, beyond the window
    assert width == 1280
    assert height > 800


@pytest.mark.parametrize("page", ["fr-FR"], indirect=True)
def test_the_page_takes_a_locale(page: Page, shot: Shot) -> None:
    """``indirect`` parametrization sets the context's locale."""
    assert page.evaluate("navigator.language") == "fr-FR"
    assert page.evaluate("new Date(0).toLocaleDateString()") == "01/01/1970"
    path = shot(page, "locale")
    assert path.parent.name == "test_the_page_takes_a_locale_fr-FR"


def test_the_phone_page_is_phone_sized(phone_page: Page, shot: Shot) -> None:
    """390x844, with a touch screen."""
    phone_page.set_content("<meta name=viewport content='width=device-width'><p>hi")
    assert phone_page.evaluate("[innerWidth, innerHeight]") == [390, 844]
    assert phone_page.evaluate("matchMedia('(pointer: coarse)').matches") is True
    assert png_size(shot(phone_page, "phone")) == (390, 844)


def test_no_event_loop_is_left_running_after_a_browser_test() -> None:
    """The engine's asyncio.run works in a process that ran browser tests."""

    async def answer() -> int:
        return 42

    assert asyncio.run(answer()) == 42
