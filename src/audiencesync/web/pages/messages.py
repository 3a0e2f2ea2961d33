"""Service errors in the page's language: catalog strings per error code.

The services raise errors with a stable ``code`` and the ``details`` of their fix
(names, columns, counts); their message is English. A page shows :func:`explain`
of the error: the first catalog string of its code whose placeholders its details
all fill, in the page's language. ``code:kind`` entries (``name_taken:export``)
come first, then ``code@field`` entries (a bad table name), then the plain code.
A code without an entry here, or whose details fill none of its strings, shows the
service's own English message: always right, if untranslated.
"""

from __future__ import annotations

import gettext
import re

from audiencesync.errors import AudiencesyncError

REPLACE = "or import it in replace mode."
KEY_REFUSED = (
    "Iterable refused this API key. Check it, and that it is a server-side key of the"
    " project at that address. Nothing was saved."
)
MESSAGES: dict[str, tuple[str, ...]] = {
    "form_expired": ("The form expired; send it again.",),
    "name_taken:export": (
        "An export named “%(name)s” already exists. Choose another name, or change"
        " the existing export.",
    ),
    "name_taken:connection": (
        "A connection named “%(name)s” already exists. Choose another name.",
    ),
    "consent_required": ("Tick “I agree” to save the connection.",),
    "key_rejected": (KEY_REFUSED,),
    "key_malformed": (KEY_REFUSED,),
    "key_read_only": (
        "This API key can only read. Create a server-side key that may manage lists"
        " in Iterable. Nothing was saved.",
    ),
    "key_wrong_region": (
        "This API key belongs to the other region. Choose that region. Nothing was"
        " saved.",
    ),
    "name_taken:segment": (
        "A segment named “%(name)s” already exists. Each segment becomes an Iterable"
        " list of the same name: choose another name, or edit the existing segment.",
    ),
    "name_taken:user": (
        "A user named “%(name)s” already exists; an administrator can change their"
        " role.",
    ),
    "name_taken": ("The name “%(name)s” is taken. Choose another one.",),
    "connection_in_use": (
        "Connection “%(connection)s” is used by these exports: %(exports)s. Detach"
        " or remove them first.",
    ),
    "connection_not_found": ("There is no connection named “%(name)s”.",),
    "segment_not_found": ("There is no segment named “%(name)s”.",),
    "segment_in_use": (
        "Segment “%(segment)s” is exported by %(exports)s. Remove it from those exports"
        " (or remove the exports) first, so no Iterable list is left without its"
        " segment.",
    ),
    "export_not_found": ("There is no export named “%(name)s”.",),
    "export_detached": (
        "Export “%(name)s” is already detached (no connection): it is inactive."
        " Remove it instead.",
    ),
    "no_connection": (
        "Export “%(export)s” has no connection; attach one before running it.",
    ),
    "run_not_found": ("Run %(run_id)s does not exist.",),
    "run_in_progress": (
        "Export “%(export)s” is already running (run %(run_id)s). Wait for it to"
        " end, or cancel that run.",
    ),
    "run_action_queued": (
        "Run %(run_id)s already waits for an action someone asked for; it starts"
        " shortly.",
    ),
    "user_not_found": ("There is no user named “%(name)s”.",),
    "last_admin": (
        "“%(name)s” is the last administrator: make another user an administrator"
        " first.",
    ),
    "cannot_remove_self": (
        "You cannot remove yourself (“%(name)s”); another administrator can.",
    ),
    "nothing_to_change": ("Nothing to change: give at least one new setting.",),
    "columns_differ": (
        "The file lacks columns of table %(table)s: %(missing)s. Add them to the"
        " file, " + REPLACE,
        "The file has columns that table %(table)s does not: %(extra)s. Remove them"
        " from the file, " + REPLACE,
        "Column %(column)s is %(was)s in table %(table)s and %(now)s in the file."
        " Fix the file, " + REPLACE,
        "The file has values that do not fit the column types of table %(table)s."
        " Fix the file, " + REPLACE,
    ),
    "key_column_missing": (
        "The key column %(key)s is not in the file. Add it, or choose another key"
        " column.",
    ),
    "key_column_needed": (
        "The file has no customer_id column: choose the key column.",
    ),
    "key_mismatch": (
        "Table %(table)s is keyed by %(key)s. Import with key %(key)s, " + REPLACE,
    ),
    "no_profile_table": (
        "There is no profile table %(table)s yet. Import profiles first.",
    ),
    "no_external_profile_table": (
        "The profile database has no table %(table)s. An administrator sets"
        " AUDIENCESYNC_PROFILE_TABLE to the name of the table that holds the"
        " profiles.",
    ),
    "query_timeout": (
        "The database stopped the segment's query: it ran too long. Narrow the"
        " segment, or an administrator raises AUDIENCESYNC_PROFILES_TIMEOUT.",
    ),
    "run_files_unusable": (
        "The folder for run files cannot be used. An administrator points"
        " AUDIENCESYNC_RUN_DATA (or the data folder) at a writable folder.",
    ),
    "table_not_found": ("There is no table %(table)s; import it first.",),
    "unknown_column": ("Unknown column “%(column)s” in table %(table)s.",),
    "unknown_table": ("Unknown table “%(table)s”.",),
    "no_join_key": (
        "Table %(table)s has no column linking its rows to profiles: import it again"
        " with its key column, e.g. %(key)s.",
    ),
    "no_key_column": (
        "The profile table %(table)s has no key column: import it again with the"
        " column that identifies each profile.",
    ),
    "profile_not_found": ("There is no profile with that key.",),
    "hold_outdated": (
        "Table %(table)s changed since its refresh was held; discard the held"
        " refresh and refresh again.",
    ),
    "user_name_invalid": (
        "A user name needs 1 to %(max)s characters.",
        "A user name may hold only letters, digits and %(allowed)s.",
    ),
    "password_invalid": (
        "The password is too short: use at least %(min)s characters (a few random"
        " words make a good one).",
        "The password is too long: use at most %(max)s characters.",
    ),
    "user_email_invalid": (
        "That is not a valid e-mail address: use the form name@example.com.",
    ),
    "invalid_source@table": (
        "The table name “%(table)s” is not valid: use letters, digits and"
        " underscores, starting with a letter, at most %(max)s characters.",
    ),
    "invalid_cron": (
        "The schedule “%(schedule)s” has %(fields)s fields; a cron schedule has 5"
        " (minute, hour, day of the month, month, day of the week), e.g. 0 6 * * *.",
        "Field %(position)s (“%(value)s”) of the schedule “%(schedule)s” is not"
        " valid: use a number, a list (1,15), a range (1-5) or a step (*/15).",
        "The schedule “%(schedule)s” never runs: no date matches it (such as 31"
        " February). Choose another day.",
    ),
    "unknown_timezone": (
        "Unknown time zone “%(timezone)s”. Did you mean “%(suggestion)s”?",
        "Unknown time zone “%(timezone)s”. Use a name such as Europe/Paris,"
        " America/New_York or UTC.",
    ),
    "forbidden:viewer": (
        "Viewers read but change nothing. Ask an administrator (%(admins)s) if you"
        " need this.",
        "Viewers read but change nothing. Ask an administrator if you need this.",
    ),
    "forbidden:contributor": (
        "Only administrators may do this. Ask an administrator (%(admins)s) if you"
        " need it.",
        "Only administrators may do this. Ask an administrator if you need it.",
    ),
    "forbidden:connection_admins_only": (
        "Connection “%(connection)s” is for administrators only. Ask an"
        " administrator (%(admins)s) to share it with contributors, or to do this for"
        " you.",
        "Connection “%(connection)s” is for administrators only. Ask an"
        " administrator to share it with contributors, or to do this for you.",
    ),
    "stale_edit": (
        "Someone changed this since you opened it. Nothing was saved: open it again"
        " and redo your change.",
    ),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def explain(error: AudiencesyncError, catalog: gettext.NullTranslations) -> str:
    """``error`` said in ``catalog``'s language, or its own message."""
    values = {key: _shown(value) for key, value in error.details.items()}
    kind, field = error.details.get("kind"), error.field
    for key in (f"{error.code}:{kind}", f"{error.code}@{field}", error.code):
        for template in MESSAGES.get(key, ()):
            if set(_PLACEHOLDER.findall(template)) <= values.keys():
                return catalog.gettext(template) % values
    return str(error)


def message_ids() -> set[str]:
    """Every catalog string of this table (each needs its translations)."""
    return {template for templates in MESSAGES.values() for template in templates}


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
