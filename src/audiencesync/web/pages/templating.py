"""Rendering a page: Jinja2 templates in the request's language.

Templates (``web/templates``) write every visible string as ``_("...")``
(``%(name)s`` placeholders filled from keyword arguments) or ``ngettext``; both
read the page's language from the template context. Autoescaping is on.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from audiencesync import __version__
from audiencesync.errors import AudiencesyncError
from audiencesync.web.pages import i18n, messages

TEMPLATES = Path(__file__).parent.parent / "templates"


@pass_context
def _translate(context: Context, message: str, **values: object) -> str:
    text = i18n.translations(context["lang"]).gettext(message)
    return text % values if values else text


@pass_context
def _translate_plural(
    context: Context, singular: str, plural: str, count: int, **values: object
) -> str:
    text = i18n.translations(context["lang"]).ngettext(singular, plural, count)
    return text % {"count": context["formats"].number(count), **values}


@pass_context
def _status(context: Context, status: str) -> str:
    """A run status in the page's language (the catalog has every status)."""
    return i18n.translations(context["lang"]).gettext(status)


@pass_context
def _explain(context: Context, error: AudiencesyncError) -> str:
    """A service error in the page's language (:mod:`messages`)."""
    return messages.explain(error, i18n.translations(context["lang"]))


@functools.cache
def environment() -> Environment:
    """The pages' template environment, made once."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        _=_translate,
        ngettext=_translate_plural,
        status=_status,
        explain=_explain,
        version=__version__,
    )
    env.filters["dictsum"] = lambda counts: sum(counts.values())
    return env


def render(
    request: Request, template: str, *, status: int = 200, **values: Any
) -> HTMLResponse:
    """The page ``template`` in the request's language, with ``values``."""
    lang = i18n.choose(request)
    page = (
        environment()
        .get_template(template)
        .render(request=request, lang=lang, formats=i18n.Formats(lang), **values)
    )
    return HTMLResponse(page, status_code=status)
