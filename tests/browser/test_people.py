"""Profiles, Users and the Audit log in a real browser, in English and French (#13).

An administrator uploads a malformed CSV (the error is shown by the file field),
then a good one (the table and its row count appear), adds a user and changes
their role, and finds those changes in the audit log. A viewer reads Profiles
without the upload form, also at a phone's width.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import Shot
from tests.web.served import run_cli

PASSWORD = "correct horse 7"
NEW_PASSWORD = "battery staple 7"
GOOD = b"customer_id,email,country\nC1,ana@example.com,FR\nC2,bob@example.com,DE\n"
GOOD += b"C3,cleo@example.com,FR\n"
BAD = b"customer_id,email\nC1,a,b,c\n"
WORDS = {
    "en-US": {"sign_in": "Sign in", "profiles": "Profiles", "users": "Users",
              "audit": "Audit log", "upload": "Upload and import",
              "add_user": "Add user", "save": "Save", "viewer": "Viewer",
              "saved": "The role and e-mail address are saved.",
              "imported": "which now has 3 rows"},
    "fr-FR": {"sign_in": "Se connecter", "profiles": "Profils",
              "users": "Utilisateurs", "audit": "Journal d\u2019audit",
              "upload": "Téléverser et importer",
              "add_user": "Ajouter un utilisateur", "save": "Enregistrer",
              "viewer": "Lecteur",
              "saved": "Le rôle et l\u2019adresse e-mail sont enregistrés.",
              "imported": "qui compte maintenant 3 lignes"},
}  # fmt: skip
LOCALES = pytest.mark.parametrize("page", list(WORDS), indirect=True)


@pytest.fixture
def served_home(served_home: Path) -> Path:
    """The administrator with a password, and viewer vera."""
    run_cli(served_home, "users", "set-password", "admin", stdin=PASSWORD + "\n")
    run_cli(served_home, "users", "add", "vera", "--role", "viewer",
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    return served_home


def _words(page: Page) -> dict[str, str]:
    language = page.evaluate("navigator.language")
    return WORDS["fr-FR" if language.startswith("fr") else "en-US"]


def _sign_in(page: Page, served: str, name: str) -> None:
    page.goto(f"{served}/profiles")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=_words(page)["sign_in"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(_words(page)["profiles"])


def _csv(name: str, content: bytes) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


@pytest.mark.timeout(180)
@LOCALES
def test_an_administrator_uploads_adds_a_user_and_reads_the_audit_log(
    page: Page, served: str, shot: Shot
) -> None:
    """Bad CSV refused by its field, good CSV counted, a user added and changed."""
    words = _words(page)
    _sign_in(page, served, "admin")
    shot(page, "profiles-empty")

    page.locator("#file").set_input_files(_csv("people.csv", BAD))
    page.get_by_role("button", name=words["upload"]).click()
    expect(page.locator("#file-error")).to_be_visible()
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    shot(page, "bad-csv-refused")

    page.locator("#file").set_input_files(_csv("people.csv", GOOD))
    page.get_by_role("button", name=words["upload"]).click()
    expect(page.locator("#imported")).to_contain_text(words["imported"])
    expect(page.locator('dd[data-rows="customers"]')).to_have_text("3")
    expect(page.get_by_role("heading", name="customers")).to_be_visible()
    shot(page, "good-csv-imported")

    page.get_by_role("link", name=words["users"], exact=True).click()
    page.locator("#name").fill("ana")
    page.locator("#role").select_option("contributor")
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["add_user"]).click()
    expect(page.locator('tr[data-user="ana"]')).to_be_visible()
    shot(page, "user-added")

    page.get_by_role("link", name="ana", exact=True).click()
    page.locator("#role").select_option("viewer")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("status")).to_have_text(words["saved"])
    shot(page, "role-changed")

    page.get_by_role("link", name=words["audit"], exact=True).click()
    table = page.locator("#audit-events")
    expect(table).to_contain_text("user.set_role")
    expect(table).to_contain_text("from: contributor; to: viewer")
    expect(table).to_contain_text("user.add")
    expect(table).to_contain_text("profiles.import")
    shot(page, "audit-log")

    page.locator("#action").fill("user.set_role")
    page.locator("#action").press("Enter")
    expect(page.locator("#audit-events tbody tr")).to_have_count(1)
    shot(page, "audit-log-filtered")


@pytest.fixture
def imported(served_home: Path, tmp_path: Path) -> Path:
    """customers imported from people.csv by the command line, before serving."""
    people = tmp_path / "people.csv"
    people.write_bytes(GOOD)
    run_cli(served_home, "profiles", "import", str(people))
    return served_home


@LOCALES
def test_a_viewer_reads_profiles_without_the_upload_form(
    imported: Path, page: Page, served: str, shot: Shot
) -> None:
    """The tables, no form; and the page fits a phone's width."""
    _sign_in(page, served, "vera")
    expect(page.locator('dd[data-rows="customers"]')).to_have_text("3")

    expect(page.locator("#upload")).to_have_count(0)
    expect(page.locator('input[type="file"]')).to_have_count(0)
    shot(page, "viewer-profiles")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(page, "viewer-profiles-phone")
