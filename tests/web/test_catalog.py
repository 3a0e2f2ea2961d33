"""Every string the pages show has its French translation (issue 13, acceptance 4)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from audiencesync.connections.consent import PRIVACY_STATEMENT
from audiencesync.sync.statuses import RunStatus
from audiencesync.web.pages.i18n import catalog_files, read_catalogs
from audiencesync.web.pages.messages import message_ids
from audiencesync.web.pages.statement import paragraphs
from audiencesync.web.pages.templating import TEMPLATES

KEYWORDS = {"_": None, "ngettext": (1, 2)}


def template_strings(folder: Path = TEMPLATES) -> set[str]:
    """The msgids of every ``_()`` and ``ngettext()`` in the templates."""
    found = extract_from_dir(
        str(folder),
        method_map=[("**.html", "jinja2")],
        keywords=KEYWORDS,
        options_map={"**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
    )
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in found
    }


def translated(language: str) -> set[str]:
    """The msgids that ``language``'s catalogs translate (every plural form)."""
    done: set[str] = set()
    for catalog in read_catalogs(language):
        for entry in catalog:
            key, text = entry.id, entry.string
            if isinstance(key, tuple) and isinstance(text, tuple | list) and all(text):
                done.add(key[0])
            elif isinstance(key, str) and key and text:
                done.add(key)
    return done


def test_the_templates_have_strings_to_translate() -> None:
    """The extraction finds the templates' strings (else the next proves nothing)."""
    assert {"Sign in", "Exports", "%(count)s segment"} <= template_strings()


def test_every_template_string_has_a_french_translation() -> None:
    """A string added to a template without its French is a failure, named here."""
    missing = template_strings() - translated("fr")
    assert not missing, f"add these to web/locale/fr/: {sorted(missing)}"


def test_every_run_status_has_its_french_translation() -> None:
    """The pages show run statuses in the page's language."""
    missing = {status.value for status in RunStatus} - translated("fr")
    assert not missing, f"add these to web/locale/fr/: {sorted(missing)}"


def test_the_privacy_statement_has_its_french_translation() -> None:
    """Each paragraph of the statement people agree to is translated."""
    missing = set(paragraphs(PRIVACY_STATEMENT)) - translated("fr")
    assert not missing, f"add these to web/locale/fr/: {sorted(missing)}"


def test_french_is_split_into_area_files() -> None:
    """The French catalog is read from every file of its folder."""
    assert len(catalog_files("fr")) >= 1


def test_no_string_is_translated_in_two_catalog_files() -> None:
    """Each msgid lives in one file, so two files never disagree on it."""
    seen: dict[str, str] = {}
    twice: list[str] = []
    for path, catalog in zip(catalog_files("fr"), read_catalogs("fr"), strict=True):
        for entry in catalog:
            key = entry.id if isinstance(entry.id, str) else entry.id[0]
            if key and key in seen:
                twice.append(f"{key!r} in {seen[key]} and {path.name}")
            seen[key] = path.name
    assert not twice, twice


def test_every_error_message_has_its_french_translation() -> None:
    """The service errors that pages translate have their French."""
    missing = message_ids() - translated("fr")
    assert not missing, f"add these to web/locale/fr/errors.po: {sorted(missing)}"
