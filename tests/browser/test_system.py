"""Administrator > System, the cron preview and Edit export in a real browser.

An administrator reads the System page (the refresh schedule in words and its
next three runs), types a custom cron schedule on Add export and watches its
description and next three times follow what is typed, then edits the export it
saved. A viewer reads the System page without any change control. English and
French; every step saves a screenshot.
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

PASSWORD = "correct horse 6"
KEY_VARIABLE = "BROWSER_TEST_ITERABLE_KEY"
PEOPLE = "customer_id,email,country\nC1,ana@example.com,FR\nC2,ben@example.com,DE\n"
WORDS = {
    "en-US": {"sign_in": "Sign in", "system": "System", "add": "Add export",
              "weekdays": "At 08:30, Monday to Friday", "daily": "At 06:00, every day",
              "save": "Save", "edit": "Edit export", "refresh": "Refresh now"},
    "fr-FR": {"sign_in": "Se connecter", "system": "Système",
              "add": "Ajouter une exportation",
              "weekdays": "À 08:30, du lundi au vendredi",
              "daily": "À 06:00, tous les jours", "save": "Enregistrer",
              "edit": "Modifier l\u2019exportation",
              "refresh": "Actualiser maintenant"},
}  # fmt: skip
LOCALES = pytest.mark.parametrize("page", list(WORDS), indirect=True)


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """An Iterable emulator on a loopback port (its default key)."""
    with serve_in_thread(Emulator(EmulatorConfig())) as url:
        yield url


@pytest.fixture
def served_home(
    served_home: Path,
    tmp_path: Path,
    emulator_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Profiles, segment France, a shared connection, a refresh schedule, a viewer."""
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    monkeypatch.setenv(KEY_VARIABLE, DEFAULT_API_KEY)
    run_cli(served_home, "users", "set-password", "admin", stdin=PASSWORD + "\n")
    run_cli(served_home, "users", "add", "vera", "--role", "viewer",
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    run_cli(served_home, "profiles", "import", str(people))
    run_cli(served_home, "segments", "create", "France", "--where", "country = 'FR'")
    run_cli(served_home, "connections", "add", "--name", "Iterable shared",
            "--api-key-env", KEY_VARIABLE, "--base-url", emulator_url,
            "--allow-contributors", "--i-agree")  # fmt: skip
    run_cli(served_home, "schedule", "set", "0 6 * * *", "--timezone", "Europe/Paris")
    return served_home


def _words(page: Page) -> dict[str, str]:
    language = page.evaluate("navigator.language")
    return WORDS["fr-FR" if language.startswith("fr") else "en-US"]


def _sign_in(page: Page, served: str, user: str) -> dict[str, str]:
    words = _words(page)
    page.goto(f"{served}/system")
    page.locator("#name").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["system"])
    return words


@pytest.mark.timeout(180)  # six setup commands, then the pages
@LOCALES
def test_an_administrator_previews_a_cron_schedule_and_edits_the_export(
    page: Page, served: str, shot: Shot
) -> None:
    """System page; the preview follows the typed cron; save; Edit export."""
    words = _sign_in(page, served, "admin")
    expect(page.locator("#refresh-schedule")).to_contain_text(words["daily"])
    expect(page.locator("#refresh-schedule ol li")).to_have_count(3)
    expect(page.get_by_role("button", name=words["refresh"])).to_be_visible()
    shot(page, "system")

    page.goto(f"{served}/exports/new")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["add"])
    page.locator("#name").fill("Weekdays")
    page.get_by_label("France").check()
    page.locator('input[name="schedule"][value="cron"]').check()
    page.locator("#timezone").fill("Europe/Paris")
    page.locator("#cron").fill("30 8 * * MON-FRI")
    preview = page.locator("#cron-preview")
    expect(preview).to_contain_text(words["weekdays"])
    expect(preview.locator("li")).to_have_count(3)
    expect(preview.locator("li").first).to_contain_text("08:30 Europe/Paris")
    shot(page, "cron-preview")
    page.locator("#cron").fill("0 6 * * *")
    expect(preview).to_contain_text(words["daily"])
    expect(preview.locator("li").first).to_contain_text("06:00 Europe/Paris")
    page.locator("#timezone").fill("America/New_York")
    expect(preview.locator("li").first).to_contain_text("06:00 America/New_York")
    shot(page, "cron-preview-changed")
    page.locator("#cron").fill("0 25 * * *")
    expect(preview.locator(".error")).to_contain_text("hour field")
    shot(page, "cron-preview-refused")
    page.locator("#cron").fill("0 6 * * *")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weekdays")

    page.get_by_role("link", name=words["edit"]).click()
    expect(page.locator("#cron")).to_have_value("0 6 * * *")
    expect(page.locator("#cron-preview")).to_contain_text(words["daily"])
    shot(page, "edit-export")
    page.locator("#name").fill("a/edit")
    page.locator("#removal_brake").fill("5")
    page.get_by_role("button", name=words["save"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("a/edit")
    expect(page.locator(".facts")).to_contain_text("5 %")
    shot(page, "edited")


@pytest.mark.timeout(180)
@LOCALES
def test_a_viewer_reads_the_system_page_without_change_controls(
    page: Page, served: str, shot: Shot
) -> None:
    """The schedule and its runs, but no form and no Refresh now."""
    words = _sign_in(page, served, "vera")

    expect(page.locator("#refresh-schedule")).to_contain_text(words["daily"])
    expect(page.get_by_role("button", name=words["refresh"])).to_have_count(0)
    expect(page.locator("#schedule-form")).to_have_count(0)
    expect(page.locator("#cron")).to_have_count(0)
    shot(page, "system-as-viewer")
