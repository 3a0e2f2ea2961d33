"""The web pages in a real browser, in English and in French (issue 13).

An administrator signs in, adds an Iterable connection against the emulator (Save
held until "I agree" is ticked; a wrong key shown by its field), and finds it in
the list; the pages fit a phone's width. Every step saves a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from tests.browser.conftest import Shot
from tests.web.served import run_cli

PASSWORD = "correct horse 7"
WORDS = {
    "en-US": {"sign_in": "Sign in", "exports": "Exports", "wrong": "Wrong user name",
              "add": "Add connection", "save": "Save", "agree": "I agree",
              "connections": "Connections", "share": "Share with contributors",
              "shared": "Administrators and contributors", "connect": "Connect",
              "accepted": "Iterable accepted the key"},
    "fr-FR": {"sign_in": "Se connecter", "exports": "Exportations",
              "wrong": "Nom d\u2019utilisateur ou mot de passe incorrect",
              "add": "Ajouter une connexion", "save": "Enregistrer",
              "agree": "J\u2019accepte", "connections": "Connexions",
              "share": "Partager avec les contributeurs",
              "shared": "Administrateurs et contributeurs", "connect": "Connecter",
              "accepted": "Iterable a accepté la clé"},
}  # fmt: skip
LOCALES = pytest.mark.parametrize("page", list(WORDS), indirect=True)


@pytest.fixture
def served_home(served_home: Path) -> Path:
    """The served data folder, its administrator with a password."""
    run_cli(served_home, "users", "set-password", "admin", stdin=PASSWORD + "\n")
    return served_home


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """An Iterable emulator on a loopback port (its default key)."""
    with serve_in_thread(Emulator(EmulatorConfig())) as url:
        yield url


def _words(page: Page) -> dict[str, str]:
    language = page.evaluate("navigator.language")
    return WORDS["fr-FR" if language.startswith("fr") else "en-US"]


def sign_in(page: Page, served: str, shot: Shot, password: str = PASSWORD) -> None:
    """Open the exports page, get sent to sign in, and sign in as admin."""
    words = _words(page)
    page.goto(f"{served}/exports")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sign_in"])
    shot(page, "sign-in")
    page.get_by_label(_label(page, "name")).fill("admin")
    page.get_by_label(_label(page, "password")).fill(password)
    page.get_by_role("button", name=words["sign_in"]).click()


def _label(page: Page, field: str) -> str:
    return page.locator(f"label[for={field}]").inner_text()


@LOCALES
def test_an_administrator_signs_in_to_the_exports(
    page: Page, served: str, shot: Shot
) -> None:
    """The sign-in page, then Data > Exports, in the browser's language."""
    sign_in(page, served, shot)

    expect(page.get_by_role("heading", level=1)).to_have_text(_words(page)["exports"])
    shot(page, "exports")


@LOCALES
def test_a_wrong_password_is_shown_by_the_form(
    page: Page, served: str, shot: Shot
) -> None:
    """A wrong password: the form again, the error announced beside it."""
    sign_in(page, served, shot, password="not it at all")

    expect(page.get_by_role("alert")).to_contain_text(_words(page)["wrong"])
    shot(page, "wrong-password")


@LOCALES
def test_an_administrator_adds_an_iterable_connection(
    page: Page, served: str, emulator_url: str, shot: Shot
) -> None:
    """Connect checks the key inline; Save waits for I agree; listed; shared."""
    words = _words(page)
    sign_in(page, served, shot)
    page.get_by_role("link", name=words["connections"]).click()
    page.get_by_role("link", name=words["add"]).click()
    save = page.get_by_role("button", name=words["save"])
    expect(save).to_be_disabled()
    page.locator("#name").fill("Iterable US")
    page.locator("#api_key").fill("x" * 32)
    page.locator("#base_url").fill(emulator_url)
    page.get_by_role("button", name=words["connect"], exact=True).click()
    expect(page.locator("#connect-result")).to_have_class("error")
    expect(page.locator("#api_key")).to_have_attribute("aria-invalid", "true")
    shot(page, "connect-wrong-key")
    page.locator("#api_key").fill(DEFAULT_API_KEY)
    page.get_by_role("button", name=words["connect"], exact=True).click()
    expect(page.locator("#connect-result")).to_contain_text(words["accepted"])
    expect(page.locator("#api_key")).to_have_value(DEFAULT_API_KEY)
    shot(page, "connect-accepted")
    page.locator("#api_key").fill("x" * 32)
    page.get_by_label(words["agree"]).check()
    expect(save).to_be_enabled()
    shot(page, "filled")
    save.click()

    expect(page.locator("#api_key-error")).to_be_visible()
    shot(page, "wrong-key")
    page.locator("#api_key").fill(DEFAULT_API_KEY)
    page.get_by_label(words["agree"]).check()
    page.get_by_role("button", name=words["save"]).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(words["connections"])
    expect(page.get_by_role("cell", name="Iterable US")).to_be_visible()
    shot(page, "listed")
    page.get_by_role("button", name=words["share"]).click()
    expect(page.get_by_role("cell", name=words["shared"])).to_be_visible()
    shot(page, "shared")


def test_the_pages_fit_a_phone(phone_page: Page, served: str, shot: Shot) -> None:
    """390 px wide: no horizontal scrolling on the sign-in and exports pages."""
    sign_in(phone_page, served, shot)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Exports")
    shot(phone_page, "exports-phone")

    fits = phone_page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert fits
