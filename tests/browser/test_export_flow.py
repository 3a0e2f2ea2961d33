"""A contributor's export in a real browser, in English and in French (issue 13).

On a connection an administrator shared, a contributor adds an export, runs it,
watches its progress to the end, reads the rejects and downloads them as CSV;
the Iterable list then holds exactly the segment's valid members.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.profiles.service import import_profiles
from audiencesync.settings import load_settings
from tests.browser.conftest import Shot
from tests.web.served import run_cli

PASSWORD = "correct horse 8"
KEY_VARIABLE = "BROWSER_TEST_ITERABLE_KEY"
PEOPLE = """customer_id,email,country
C1,ana@example.com,FR
C2,Bob@Example.com,FR
C3,not-an-email,FR
C4,cleo@example.com,DE
C5,dan@example.com,FR
"""
FRANCE = {"ana@example.com", "bob@example.com", "dan@example.com"}
WORDS = {
    "en-US": {"sign_in": "Sign in", "add": "Add export", "save": "Save",
              "run": "Run now", "succeeded": "Succeeded", "csv": "Download every",
              "connections": "Connections", "key": "API key", "exports": "Exports"},
    "fr-FR": {"sign_in": "Se connecter", "add": "Ajouter une exportation",
              "save": "Enregistrer", "run": "Exécuter maintenant",
              "succeeded": "Réussie", "csv": "Télécharger tous",
              "connections": "Connexions", "key": "Clé d\u2019API",
              "exports": "Exportations"},
}  # fmt: skip


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """An Iterable emulator on a loopback port (its default key)."""
    served = Emulator(EmulatorConfig())
    with serve_in_thread(served) as url:
        yield served, url


@pytest.fixture
def served_home(
    served_home: Path,
    tmp_path: Path,
    emulator: tuple[Emulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Profiles, segment France, a shared and a private connection, carla."""
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    monkeypatch.setenv(KEY_VARIABLE, DEFAULT_API_KEY)
    run_cli(served_home, "profiles", "import", str(people))
    run_cli(served_home, "segments", "create", "France", "--where", "country = 'FR'")
    run_cli(served_home, "connections", "add", "--name", "Iterable shared",
            "--api-key-env", KEY_VARIABLE, "--base-url", emulator[1],
            "--allow-contributors", "--i-agree")  # fmt: skip
    run_cli(served_home, "connections", "add", "--name", "Iterable private",
            "--api-key-env", KEY_VARIABLE, "--base-url", emulator[1],
            "--i-agree")  # fmt: skip
    run_cli(served_home, "users", "add", "carla", "--role", "contributor",
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    return served_home


@pytest.mark.timeout(180)  # five setup commands and a real run
@pytest.mark.parametrize("page", list(WORDS), indirect=True)
def test_a_contributor_exports_a_segment_and_reads_its_rejects(
    page: Page, served: str, emulator: tuple[Emulator, str], shot: Shot,
    tmp_path: Path,
) -> None:  # fmt: skip
    """A private connection's settings unseen; Add export, run, rejects, CSV, exact."""
    words = WORDS[
        "fr-FR" if page.evaluate("navigator.language") == "fr-FR" else "en-US"
    ]
    page.goto(f"{served}/exports")
    page.locator("#name").fill("carla")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).click()
    page.get_by_role("link", name=words["connections"]).click()
    expect(page.get_by_role("cell", name="Iterable private")).to_be_visible()
    expect(page.get_by_role("columnheader", name=words["key"])).to_have_count(0)
    assert DEFAULT_API_KEY[-4:] not in page.content()  # no key hint, no settings
    shot(page, "connections-as-contributor")
    page.get_by_role("link", name=words["exports"]).click()
    page.get_by_role("link", name=words["add"]).click()
    expect(
        page.locator("#connection option", has_text="Iterable private")
    ).to_have_count(0)
    page.locator("#name").fill("Newsletter FR")
    page.get_by_label("France").check()
    shot(page, "add-export")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Newsletter FR")
    shot(page, "export")

    page.get_by_role("button", name=words["run"]).click()
    expect(page.locator("#run-status")).to_contain_text(words["succeeded"],
                                                        timeout=30_000)  # fmt: skip
    shot(page, "run-ended")
    with page.expect_download() as download:
        page.locator("#rejects-csv").click()
    saved = tmp_path / "rejects.csv"
    download.value.save_as(saved)

    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("segment,batch,profile_key,identifier,bucket")
    assert any("not-an-email" in line for line in lines[1:])
    list_id = int(page.locator('tr[data-segment="France"] td').nth(5).inner_text())
    assert emulator[0].list_members(list_id) == FRANCE
    page.get_by_role("link", name="Newsletter FR").click()
    expect(page.get_by_role("cell", name=words["succeeded"])).to_be_visible()
    shot(page, "export-with-its-run")  # README's picture of the export page


EMPTIED = PEOPLE.replace(",FR\n", ",DE\n")  # nobody is in France any more
APPROVE = {"en-US": ("Approve the held removals", "Succeeded"),
           "fr-FR": ("Approuver les retraits retenus", "Réussie")}  # fmt: skip


@pytest.fixture
def held_run(served_home: Path, tmp_path: Path) -> int:
    """Run 2 of export Newsletter FR, Held: France emptied after run 1.

    Set up in this process (faster than a command per step), in the folder the
    served process uses.
    """
    run_cli(served_home, "users", "set-password", "admin", stdin=PASSWORD + "\n")
    settings = load_settings(home=served_home)
    emptied = tmp_path / "emptied.csv"
    emptied.write_text(EMPTIED, encoding="utf-8")
    with open_workspace(settings) as workspace:
        workspace.exports.add("Newsletter FR", connection="Iterable shared",
                              email_field="email", segments=["France"])  # fmt: skip
        workspace.runs.run("Newsletter FR")
        import_profiles(settings, emptied, replace=True)
        held = workspace.runs.run("Newsletter FR")
    assert held.status == "Held", held.error
    return held.id


@pytest.mark.timeout(180)  # its setup runs the export twice on a busy CI machine
@pytest.mark.parametrize("page", list(APPROVE), indirect=True)
def test_an_administrator_approves_removals_held_when_a_segment_emptied(
    held_run: int, page: Page, served: str, emulator: tuple[Emulator, str],
    shot: Shot,
) -> None:  # fmt: skip
    # held_run first: it runs the engine (asyncio.run), which cannot run once
    # Playwright's loop (the page) is up in this thread.
    """The brake holds an emptying list; approved on the run's page, it empties."""
    approve, succeeded = APPROVE[page.evaluate("navigator.language")]
    page.goto(f"{served}/runs/{held_run}")
    page.locator("#name").fill("admin")
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/sign-in'] button").click()
    shot(page, "held")

    page.get_by_role("button", name=approve).click()

    # The served worker runs the approved pass; a loaded CI machine took over 30 s.
    expect(page.locator("#run-status")).to_contain_text(succeeded, timeout=90_000)
    shot(page, "approved")
    list_id = int(page.locator('tr[data-segment="France"] td').nth(5).inner_text())
    assert emulator[0].list_members(list_id) == frozenset()


VIEWER = {"en-US": "Run now", "fr-FR": "Exécuter maintenant"}


@pytest.fixture
def viewer_and_export(served_home: Path) -> None:
    """Viewer vera, and the export Newsletter FR (not run)."""
    run_cli(served_home, "users", "add", "vera", "--role", "viewer",
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    with open_workspace(load_settings(home=served_home)) as workspace:
        workspace.exports.add("Newsletter FR", connection="Iterable shared",
                              email_field="email", segments=["France"])  # fmt: skip


@pytest.mark.timeout(180)
@pytest.mark.parametrize("page", list(VIEWER), indirect=True)
def test_a_viewer_reads_but_has_no_controls_and_is_refused(
    viewer_and_export: None, page: Page, served: str, shot: Shot
) -> None:
    """No Run now for a viewer, and the server refuses the request anyway."""
    page.goto(f"{served}/exports/Newsletter%20FR")
    page.locator("#name").fill("vera")
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/sign-in'] button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Newsletter FR")
    shot(page, "viewer-export")

    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    forged = page.request.post(f"{served}/exports/Newsletter%20FR/run",
                               form={"csrf": csrf, "kind": "run"})  # fmt: skip

    expect(page.get_by_role("button", name=VIEWER[page.evaluate("navigator.language")])
           ).to_have_count(0)  # fmt: skip
    assert forged.status == 403
