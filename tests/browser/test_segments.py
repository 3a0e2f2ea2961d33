"""Segments in a real browser, in English and in French (issue 13).

A contributor builds a segment with the rule builder, sees it checked as it is
typed (an unknown column's error by the field, then the member count), saves it,
reads its first members and asks why one profile is in it. A viewer reads the
segments without any change control, and the server refuses a forged removal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.rules import parse_where
from audiencesync.settings import load_settings
from tests.browser.conftest import Shot

PASSWORD = "correct horse 8"
PEOPLE = """customer_id,email,country,orders
C1,ana@example.com,FR,3
C2,bob@example.com,FR,0
C3,cleo@example.com,DE,5
C4,dan@example.com,ES,1
C5,eve@example.com,FR,2
"""
WORDS = {
    "en-US": {"sign_in": "Sign in", "add": "Add segment", "sql": "SQL condition",
              "rules": "Rule builder", "condition": "Add condition", "field": "Field",
              "value": "Value", "valid": "Valid: 4 members", "save": "Save",
              "explain": "Explain", "in": "This profile is in the segment.",
              "edit": "Edit", "remove": "Remove", "shown": "Showing 4 of 4 members.",
              "all": "All segments", "counted": "1 evaluation"},
    "fr-FR": {"sign_in": "Se connecter", "add": "Ajouter un segment",
              "sql": "Condition SQL", "rules": "Éditeur de règles",
              "condition": "Ajouter une condition", "field": "Champ",
              "value": "Valeur", "valid": "Valide\u00a0: 4 membres",
              "save": "Enregistrer", "explain": "Expliquer",
              "in": "Ce profil est dans le segment.", "edit": "Modifier",
              "remove": "Supprimer", "shown": "Les 4 premiers sur 4 membres.",
              "all": "Tous les segments", "counted": "1 évaluation"},
}  # fmt: skip


@pytest.fixture
def segments_home(served_home: Path, tmp_path: Path) -> Path:
    """Profiles (three in France, one in Germany, one in Spain), segment France,
    contributor carla and viewer vera. Set up in this process, before the page."""
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    settings = load_settings(home=served_home)
    import_profiles(settings, people)
    with open_workspace(settings) as workspace:
        workspace.segments.create("France", parse_where("country = 'FR'"))
        workspace.users.add("carla", role=Role.CONTRIBUTOR, password=PASSWORD)
        workspace.users.add("vera", role=Role.VIEWER, password=PASSWORD)
    return served_home


def _sign_in(page: Page, served: str, path: str, name: str) -> None:
    page.goto(f"{served}{path}")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/sign-in'] button").click()


def _words(page: Page) -> dict[str, str]:
    return WORDS["fr-FR" if page.evaluate("navigator.language") == "fr-FR" else "en-US"]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("page", list(WORDS), indirect=True)
def test_a_contributor_builds_checks_saves_and_explains_a_segment(
    segments_home: Path, page: Page, served: str, shot: Shot
) -> None:
    """Rule builder, checked as typed, saved; the preview and one key explained."""
    words = _words(page)
    _sign_in(page, served, "/segments", "carla")
    page.get_by_role("link", name=words["add"]).click()
    page.locator("#name").fill("France or Spain")

    page.get_by_label(words["sql"], exact=True).first.check()
    page.locator("#where").fill("contry = 'FR'")
    expect(page.locator("#where-status")).to_contain_text('Unknown column "contry"')
    expect(page.locator("#where")).to_have_attribute("aria-invalid", "true")
    shot(page, "unknown-column")

    page.get_by_label(words["rules"]).check()
    page.get_by_role("button", name=words["condition"]).first.click()
    first = page.locator("#builder .builder-condition").nth(0)
    first.get_by_label(words["field"]).select_option("country")
    first.get_by_label(words["value"]).fill("FR")
    page.get_by_role("button", name=words["condition"]).first.click()
    second = page.locator("#builder .builder-condition").nth(1)
    second.get_by_label(words["field"]).select_option("country")
    second.get_by_label(words["value"]).fill("ES")
    page.locator("#builder .builder-head select").first.select_option("any")
    expect(page.locator("#rules-status")).to_have_text(words["valid"])
    shot(page, "valid-rules")

    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("France or Spain")
    expect(page.get_by_text(words["shown"])).to_be_visible()
    expect(page.get_by_role("cell", name="C4", exact=True)).to_be_visible()
    shot(page, "segment-page")

    page.locator("#key").fill("C4")
    page.get_by_role("button", name=words["explain"]).click()
    expect(page.locator("#verdict")).to_have_text(words["in"])
    expect(page.locator(".explanation .result.yes")).to_have_count(2)
    expect(page.locator(".explanation .result.no")).to_have_count(1)
    shot(page, "explained")

    page.get_by_role("link", name=words["all"]).click()
    # counted once, when saved (viewing its page records nothing): no trend yet
    row = page.get_by_role("row").filter(has_text="France or Spain")
    expect(row.get_by_role("cell", name=words["counted"])).to_be_visible()
    shot(page, "list-with-trend")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("page", list(WORDS), indirect=True)
def test_a_viewer_reads_segments_without_change_controls(
    segments_home: Path, page: Page, served: str, shot: Shot
) -> None:
    """No Add, Edit or Remove for a viewer; a forged removal is refused."""
    words = _words(page)
    _sign_in(page, served, "/segments", "vera")
    expect(page.get_by_role("link", name="France")).to_be_visible()
    expect(page.get_by_role("link", name=words["add"])).to_have_count(0)
    shot(page, "viewer-list")
    page.get_by_role("link", name="France").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("France")
    shot(page, "viewer-segment")

    csrf = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
    forged = page.request.post(
        f"{served}/segments/remove",
        form={"csrf": csrf, "name": "France", "revision": "1"},
    )

    expect(page.get_by_role("link", name=words["edit"])).to_have_count(0)
    expect(page.get_by_role("link", name=words["remove"])).to_have_count(0)
    assert forged.status == 403
    page.goto(f"{served}/segments")
    expect(page.get_by_role("link", name="France")).to_be_visible()


@pytest.mark.timeout(180)
def test_the_rule_builder_fits_a_phone(
    segments_home: Path, phone_page: Page, served: str, shot: Shot
) -> None:
    """At 390 px wide, the form with a condition scrolls only downwards."""
    _sign_in(phone_page, served, "/segments/new", "carla")
    phone_page.get_by_role("button", name="Add condition").first.click()
    phone_page.get_by_role("button", name="Add group").first.click()
    shot(phone_page, "phone-builder")

    width = phone_page.evaluate("document.documentElement.scrollWidth")

    assert width <= 390
