"""Every page passes axe-core, in English and in French, for an administrator and a
viewer; and the keyboard works (issue 13: accessibility).

The pages are found, not listed: signed in, the test starts at /exports and follows
every same-origin link breadth-first (GET only; one page per path pattern, so one
run page; no static files, API, downloads, sign-out or language switch), so a page
another engineer adds to the navigation is checked as soon as it is linked. The
data folder is seeded once for the module: profiles, segments, an Iterable
connection to the emulator, an export whose first run has rejects and whose second
is Held. Besides the crawl: the sign-in page, the 404 page, and the forms after a
refused save. Serious and critical violations fail (listed with rule, help, impact
and selectors); minor and moderate ones are printed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page, expect

from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.model import WhereDefinition
from audiencesync.settings import load_settings
from tests.browser.accessibility import Accessibility
from tests.browser.conftest import Shot
from tests.web.served import run_cli, serve_process

PASSWORD = "correct horse 9"
PEOPLE = """customer_id,email,country
C1,ana@example.com,FR
C2,bob@example.com,FR
C3,not-an-email,FR
C4,cleo@example.com,DE
"""
EMPTIED = PEOPLE.replace(",FR\n", ",DE\n")  # France empties: the next run is Held
EXPORT = "Newsletter FR"

MAX_PAGES = 60
SKIPPED_PATHS = ("/static/", "/api/", "/sign-in", "/sign-out", "/language")
DOWNLOADS = (".csv", ".json", ".parquet", ".zip", ".gz")
LINKS = "els => els.filter(e => !e.hasAttribute('download')).map(e => e.href)"

# The setup runs the engine twice and starts a server: the module's first test
# pays for it on a busy machine. Each test by itself takes well under a minute.
pytestmark = pytest.mark.timeout(240)


@dataclass(frozen=True)
class Site:
    """The served, seeded data folder: its URL, its runs and the emulator's URL."""

    base: str
    rejects_run: int
    held_run: int
    emulator_url: str


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """An Iterable emulator on a loopback port, for the whole module."""
    with serve_in_thread(Emulator(EmulatorConfig())) as url:
        yield url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, emulator_url: str) -> Iterator[Site]:
    """One seeded data folder served for the module (the pages only read it).

    Administrator ``admin`` and viewer ``vera``; profiles; segments France and
    Germany; a shared connection to the emulator; export Newsletter FR, run twice:
    run 1 with a reject, run 2 Held (France emptied in between). Seeded in this
    process before any browser starts (the engine uses ``asyncio.run``).
    """
    folder = tmp_path_factory.mktemp("accessibility")
    home = folder / "home"
    run_cli(home, "init")
    settings = load_settings(home=home)
    people, emptied = folder / "people.csv", folder / "emptied.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    emptied.write_text(EMPTIED, encoding="utf-8")
    import_profiles(settings, people)
    with open_workspace(settings) as workspace:
        workspace.users.set_password("admin", PASSWORD)
        workspace.users.add("vera", role=Role.VIEWER, password=PASSWORD)
        workspace.segments.create("France", WhereDefinition("country = 'FR'"))
        workspace.segments.create("Germany", WhereDefinition("country = 'DE'"))
        workspace.connections.add(
            "Iterable shared", api_key=DEFAULT_API_KEY, base_url=emulator_url,
            shared=True, agreed=True,
        )  # fmt: skip
        workspace.exports.add(
            EXPORT, connection="Iterable shared", email_field="email",
            segments=["France"], schedule="manual",
        )  # fmt: skip
        first = workspace.runs.run(EXPORT)
        import_profiles(settings, emptied, replace=True)
        held = workspace.runs.run(EXPORT)
    assert held.status == "Held", held.error
    with serve_process(home, folder / "serve.log") as base:
        yield Site(base, first.id, held.id, emulator_url)


def sign_in(page: Page, site: Site, name: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-in form the page shows."""
    page.locator("#name").fill(name)
    page.locator("#password").fill(password)
    page.locator("form[action='/sign-in'] button[type=submit]").click()


def path_pattern(path: str) -> str:
    """``path`` with each part holding a digit as ``{id}``: /runs/7 and /runs/8, or
    /profiles/C1 and /profiles/C2, are one kind of page."""
    return "/".join(
        "{id}" if any(c.isdigit() for c in part) else part for part in path.split("/")
    )


def followed(url: str, base: str) -> bool:
    """Whether the crawl follows a link to ``url``: same origin, a page, no download."""
    parts, home = urlsplit(url), urlsplit(base)
    return (
        parts.scheme in {"http", "https"}
        and parts.netloc == home.netloc
        and not parts.path.startswith(SKIPPED_PATHS)
        and not parts.path.lower().endswith(DOWNLOADS)
    )


PHONE_WIDTH = 390
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def crawl(
    page: Page, site: Site, seeds: list[str], axe: Accessibility, shot: Shot
) -> list[str]:
    """Check ``seeds`` (paths, always), then every page linked, breadth-first.

    GET only, one page per path pattern, at most ``MAX_PAGES``; every page answers
    without a server error and keeps the visitor signed in. The pages checked.
    """
    queue = deque(urljoin(site.base, seed) for seed in seeds)
    forced = set(queue)
    visited: set[str] = set()
    patterns: set[str] = set()
    checked: list[str] = []
    while queue and len(checked) < MAX_PAGES:
        url = queue.popleft().split("#")[0]
        parts = urlsplit(url)
        pattern = path_pattern(parts.path)
        if url in visited or (pattern in patterns and url not in forced):
            continue
        visited.add(url)
        patterns.add(pattern)
        response = page.goto(url)
        assert response is not None, url
        status = response.status
        landed = urlsplit(page.url).path
        assert status < 500, f"{url} answered {status}"
        assert landed != "/sign-in", f"{url} sent the signed-in visitor to sign in"
        name = f"{landed}{'?' + parts.query if parts.query else ''} ({status})"
        axe.check(page, name)
        shot(page, landed)
        if (page.viewport_size or {"width": 1280})["width"] <= PHONE_WIDTH:
            fits = page.evaluate(FITS)
            assert fits, f"{name} scrolls sideways at {PHONE_WIDTH} px"
        checked.append(name)
        patterns.add(path_pattern(landed))  # / lands on /exports: that one is done
        queue.extend(
            link
            for link in page.eval_on_selector_all("a[href]", LINKS)
            if followed(link, site.base)
        )
    return checked


VISITORS = [
    pytest.param("admin", "en-US", id="administrator-en"),
    pytest.param("admin", "fr-FR", id="administrator-fr"),
    pytest.param("vera", "en-US", id="viewer-en"),
    pytest.param("vera", "fr-FR", id="viewer-fr"),
]


BROKEN = """<!doctype html><html lang="en"><title>Broken</title><main><h1>Broken</h1>
<img id="logo"><p style="color: #bbb; background: #fff">Faint words</p></main></html>"""
UNTIDY = """<!doctype html><html lang="en"><title>Untidy</title>
<h1>Outside any landmark</h1></html>"""


def test_a_serious_violation_fails_naming_rule_help_impact_and_element(
    page: Page, axe: Accessibility
) -> None:
    """An image without text and faint words: the failure says what and where."""
    page.set_content(BROKEN)
    axe.check(page, "broken")

    with pytest.raises(AssertionError) as failed:
        axe.assert_passed()
    message = str(failed.value)
    assert "[critical] image-alt: Images must have alternative text" in message
    assert "at #logo" in message
    assert "[serious] color-contrast:" in message


def test_minor_and_moderate_violations_are_printed_but_pass(
    page: Page, axe: Accessibility, capsys: pytest.CaptureFixture[str]
) -> None:
    """Content outside the landmarks (moderate) is reported, not failed."""
    page.set_content(UNTIDY)
    found = axe.check(page, "untidy")

    axe.assert_passed()
    assert "region" in {each.rule for each in found}
    assert "[moderate] region:" in capsys.readouterr().out


def check_every_page(
    page: Page, site: Site, user: str, axe: Accessibility, shot: Shot
) -> None:
    """The sign-in page, then signed in as ``user`` every page found; axe on each."""
    page.goto(f"{site.base}/exports")
    expect(page.locator("form[action='/sign-in']")).to_be_visible()
    axe.check(page, "/sign-in")
    shot(page, "sign-in")
    sign_in(page, site, user)
    expect(page.locator("nav")).to_be_visible()

    seeds = ["/", f"/runs/{site.rejects_run}", f"/runs/{site.held_run}"]
    if user != "admin":  # forms a viewer may still open by their address
        seeds += ["/exports/new", "/connections/new"]
    checked = crawl(page, site, seeds, axe, shot)

    assert any(name.startswith("/exports/") for name in checked), checked
    axe.assert_passed()


@pytest.mark.parametrize(("user", "page"), VISITORS, indirect=["page"])
def test_every_page_passes_axe(
    site: Site, user: str, page: Page, axe: Accessibility, shot: Shot
) -> None:
    """Sign-in, then every page linked from /exports on: no serious violation."""
    check_every_page(page, site, user, axe, shot)


def test_every_page_passes_axe_on_a_phone(
    site: Site, phone_page: Page, axe: Accessibility, shot: Shot
) -> None:
    """390 px wide: no serious violation, and no page scrolls sideways."""
    check_every_page(phone_page, site, "admin", axe, shot)


@pytest.mark.parametrize("page", ["en-US", "fr-FR"], indirect=True)
def test_error_states_pass_axe(
    site: Site, page: Page, axe: Accessibility, shot: Shot
) -> None:
    """A refused sign-in, the 404 page, and both forms after a refused save."""
    page.goto(f"{site.base}/sign-in")
    sign_in(page, site, "admin", password="not the password")
    expect(page.locator("#sign-in-error")).to_be_visible()
    axe.check(page, "/sign-in (wrong password)")
    shot(page, "sign-in-refused")
    sign_in(page, site, "admin")
    expect(page.locator("nav")).to_be_visible()

    response = page.goto(f"{site.base}/no/such/page")
    assert response is not None
    assert response.status == 404
    axe.check(page, "/no/such/page (404)")
    shot(page, "not-found")

    page.goto(f"{site.base}/connections/new")
    page.locator("#name").fill("Iterable wrong key")
    page.locator("#api_key").fill("x" * 32)
    page.locator("#base_url").fill(site.emulator_url)
    page.locator("#i_agree").check()
    page.locator("#save").click()
    expect(page.locator("#api_key-error")).to_be_visible()
    axe.check(page, "/connections/new (key refused)")
    shot(page, "connection-refused")

    page.goto(f"{site.base}/exports/new")
    page.locator("#name").fill("No segment chosen")
    page.locator("#add-export button[type=submit]").click()
    expect(page.locator("#add-export [role=alert]")).to_be_visible()
    axe.check(page, "/exports/new (refused)")
    shot(page, "export-refused")

    axe.assert_passed()


# --- the keyboard ------------------------------------------------------------------

ACTIVE = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  let behind = e.parentElement, ground = 'rgb(255, 255, 255)';
  for (; behind; behind = behind.parentElement) {
    const color = getComputedStyle(behind).backgroundColor;
    if (color !== 'rgba(0, 0, 0, 0)' && color !== 'transparent') {
      ground = color;
      break;
    }
  }
  return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className,
          text: (e.innerText || e.value || '').trim().slice(0, 40),
          outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
          color: style.outlineColor, ground: ground,
          shown: box.right > 0 && box.bottom > 0 && box.left < innerWidth};
}"""


def active(page: Page) -> dict[str, object]:
    """What has the focus: tag, id, class, text, outline (style, width, colour,
    the background behind it), and whether it is on screen."""
    found: dict[str, object] = page.evaluate(ACTIVE)
    return found


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(...)``/``rgba(...)`` colours."""

    def luminance(color: str) -> float:
        channels = [
            float(part) / 255
            for part in color[color.index("(") + 1 : -1].split(",")[:3]
        ]
        linear = [
            c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
            for c in channels
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(
    site: Site, page: Page, shot: Shot
) -> None:
    """Keyboard only: skip link, main, sign in, then skip link again, Add export."""
    page.goto(f"{site.base}/sign-in")
    page.keyboard.press("Tab")
    skip = active(page)
    assert (skip["tag"], skip["cls"], skip["shown"]) == ("a", "skip", True), skip
    shot(page, "skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement === document.querySelector('main')")
    page.keyboard.press("Tab")
    assert active(page)["id"] == "name"
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    assert active(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("nav")).to_be_visible()

    page.keyboard.press("Tab")
    assert active(page)["cls"] == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert active(page)["text"] == "Add export"
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.base}/exports/new")


def test_focus_is_visible_on_every_link_and_button(
    site: Site, page: Page, shot: Shot
) -> None:
    """Tabbing round an export's page: each control shows a 2 px+ outline at 3:1."""
    page.goto(f"{site.base}/exports/{EXPORT.replace(' ', '%20')}")
    sign_in(page, site, "admin")
    expect(page.locator("h1")).to_have_text(EXPORT)
    page.wait_for_load_state("load")  # the stylesheet's outlines, not the default ring
    focused: list[dict[str, object]] = []
    for _ in range(MAX_PAGES):
        page.keyboard.press("Tab")
        now = active(page)
        if now["tag"] == "body" or (focused and now == focused[0]):
            break  # round the page once
        focused.append(now)
        if now["cls"] == "primary":
            shot(page, "focused-primary-button")

    tags = {str(each["tag"]) for each in focused}
    assert {"a", "button", "select"} <= tags, focused
    unseen = [
        each
        for each in focused
        if each["outline"] == "none"
        or float(str(each["width"])) < 2
        or contrast(str(each["color"]), str(each["ground"])) < 3
    ]
    assert not unseen, "focused without a visible outline:\n" + "\n".join(
        f"  <{each['tag']}> {each['text']!r}: {each['outline']} {each['width']}px"
        f" {each['color']} on {each['ground']}"
        for each in unseen
    )


def test_a_table_wider_than_a_phone_scrolls_by_keyboard(
    site: Site, phone_page: Page, shot: Shot
) -> None:
    """At 390 px a run's wide table is a named tab stop; the arrow keys scroll it."""
    page = phone_page
    page.goto(f"{site.base}/runs/{site.rejects_run}")
    sign_in(page, site, "admin")
    wrap = page.locator(".table-wrap", has=page.locator("#segments"))
    expect(wrap).to_have_attribute("tabindex", "0")
    expect(wrap).to_have_attribute("role", "region")
    wrap.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")

    expect(wrap).to_be_focused()
    page.wait_for_function(  # the scroll may take a few frames
        "e => e.scrollLeft > 0", arg=wrap.element_handle(), timeout=5_000
    )
    shot(page, "table-scrolled")
