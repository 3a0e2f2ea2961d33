"""Every string the pages show has its French translation (issue 13, acceptance 4)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from audiencesync.connections.consent import PRIVACY_STATEMENT
from audiencesync.sync.statuses import RunStatus
from audiencesync.web.pages.i18n import CATALOGS
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
    """The msgids that ``language``'s catalog translates (every plural form)."""
    with (CATALOGS / f"{language}.po").open("rb") as source:
        catalog = read_po(source)
    done: set[str] = set()
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
    assert not missing, f"add these to web/locale/fr.po: {sorted(missing)}"


def test_every_run_status_has_its_french_translation() -> None:
    """The pages show run statuses in the page's language."""
    missing = {status.value for status in RunStatus} - translated("fr")
    assert not missing, f"add these to web/locale/fr.po: {sorted(missing)}"


def test_the_privacy_statement_has_its_french_translation() -> None:
    """Each paragraph of the statement people agree to is translated."""
    missing = set(paragraphs(PRIVACY_STATEMENT)) - translated("fr")
    assert not missing, f"add these to web/locale/fr.po: {sorted(missing)}"
