"""The data privacy statement as the page shows it: its paragraphs, translated.

The statement's English text and version live in
:mod:`audiencesync.connections.consent` (what an administrator agrees to is
stored with that version); each paragraph is a catalog string, so the French
page shows the same statement in French.
"""

from __future__ import annotations

from starlette.requests import Request

from audiencesync.web.pages import i18n


def paragraphs(statement: str) -> list[str]:
    """The statement's paragraphs, each on one line."""
    return [
        " ".join(block.split()) for block in statement.split("\n\n") if block.strip()
    ]


def statement_paragraphs(request: Request, statement: str) -> list[str]:
    """The paragraphs in the request's language."""
    catalog = i18n.translations(i18n.choose(request))
    return [catalog.gettext(text) for text in paragraphs(statement)]
