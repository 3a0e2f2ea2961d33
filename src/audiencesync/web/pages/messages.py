"""Service errors in the page's language: one catalog string per error code.

The services raise errors with a stable ``code`` and the ``details`` of their fix
(names, counts); their message is English. A page shows :func:`explain` of the
error: the catalog string of its code, filled from its details, in the page's
language. A code without an entry here (or whose details lack a placeholder)
shows the service's own English message, which is always right, if untranslated.
"""

from __future__ import annotations

import gettext

from audiencesync.errors import AudiencesyncError

MESSAGES: dict[str, str] = {
    "form_expired": "The form expired; send it again.",
}


def explain(error: AudiencesyncError, catalog: gettext.NullTranslations) -> str:
    """``error`` said in ``catalog``'s language, or its own message."""
    template = MESSAGES.get(error.code)
    if template is None:
        return str(error)
    values = {key: _shown(value) for key, value in error.details.items()}
    try:
        return catalog.gettext(template) % values
    except (KeyError, TypeError, ValueError):
        return str(error)


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
