"""What the command line adds to an error: its flag and the command that fixes it.

Errors carry a stable code, the input field they are about and the parameters of
their fix (see :mod:`audiencesync.errors`); their messages never name a command
or a flag, since they may be stored, e-mailed or returned by the API. The
command line names the flag of the field (``--removal-brake: The removal brake
150 is ...``) and renders the fix as a command here; the web UI renders the same
fields and codes as form fields and links. Run records hold notes in the same
words: :func:`run_hint` adds the command a run's status calls for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from audiencesync.errors import AudiencesyncError
from audiencesync.sync.statuses import SUPERSEDED, RunStatus

Hint = Callable[[Mapping[str, object]], str]

FLAGS: dict[str, str] = {
    # the API's field name: the command line's flag for the same input. Only
    # fields with one flag in every command that raises on them: "name" is a
    # flag in some commands and an argument in others; "region" is named by
    # the key_wrong_region hint already.
    "segments": "--segment",
    "fields": "--field",
    "removal_brake": "--removal-brake",
    "drift_threshold": "--drift-threshold",
    "count": "--count",
    "seed": "--seed",
    "out": "--out",
    "limit": "--limit",
    "base_url": "--base-url",
    "label": "--label",
    "port": "--port",
}

_INIT = "Run `audiencesync init` first."
_IMPORT = (
    "Import profiles with `audiencesync profiles import FILE` (or make a sample"
    " with `audiencesync profiles generate --count 10000`)."
)


def _name_taken(d: Mapping[str, object]) -> str:
    if d["kind"] == "user":
        return (
            f"Change their role with `audiencesync users set-role {d['name']}"
            " --role ROLE`."
        )
    return ""


HINTS: dict[str, Hint] = {
    # the data folder and its database
    "not_initialised": lambda d: (
        f"Run `audiencesync init --home {d['home']}` first, or point --home"
        " (AUDIENCESYNC_HOME) at an existing one."
    ),
    "database_empty": lambda _: _INIT,
    "database_outdated": lambda _: "Run `audiencesync init` to upgrade it.",
    "database_damaged": lambda _: "Run `audiencesync init` to start a new one.",
    "database_unreachable": lambda _: (
        "Run `audiencesync init` to create the default one."
    ),
    "secret_key_missing": lambda _: "Run `audiencesync init` to create it.",
    "secret_key_empty": lambda _: (
        "Run `audiencesync init` to create a new one (only with no connection yet)."
    ),
    # users and tokens
    "no_default_user": lambda _: (
        "Run `audiencesync init` to create the first administrator, or act as a"
        " user with --as NAME."
    ),
    "default_user_removed": lambda _: "Act as another user with --as NAME.",
    "no_users": lambda _: "Run `audiencesync init` to create the first administrator.",
    "user_not_found": lambda _: "Run `audiencesync users add`.",
    "last_admin": lambda _: "Run `audiencesync users set-role NAME --role admin`.",
    "name_taken": _name_taken,
    "token_ambiguous": lambda d: (
        f"Run `audiencesync users tokens {d['user']}` to see the labels."
    ),
    # connections
    "consent_required": lambda _: "Add --i-agree.",
    "key_wrong_region": lambda d: f"Use --region {d['region']}.",
    "api_key_unreadable": lambda d: (
        f"Run `audiencesync connections set-key {d['connection']}`."
    ),
    "export_user_unauthorised": lambda d: (
        f"Run `audiencesync connections authorize {d['connection']}`."
    ),
    "env_key_rotation": lambda _: (
        "The middle step is `audiencesync connections rotate-keys`."
    ),
    "connection_in_use": lambda _: (
        "Run `audiencesync exports detach NAME` (or `exports remove NAME`)."
    ),
    "connection_not_found": lambda d: (
        "" if d.get("usable", True) else "Run `audiencesync connections add`."
    ),
    # exports, segments, profiles
    "export_not_found": lambda d: (
        "Run `audiencesync exports list` to see them." if d["known"] else ""
    ),
    "export_detached": lambda d: f"Run `audiencesync exports remove {d['name']}`.",
    "segment_not_found": lambda d: (
        "Run `audiencesync segments list` to see them." if d["known"] else ""
    ),
    "no_profile_table": lambda _: _IMPORT,
    "table_not_found": lambda d: (
        f"Run `audiencesync profiles import FILE --table {d['table']}`."
    ),
    "no_key_column": lambda d: (
        f"Import it again with `audiencesync profiles import FILE --table"
        f" {d['table']} --key COLUMN`."
    ),
    "no_join_key": lambda d: (
        f"E.g. `audiencesync profiles import FILE --table {d['table']}"
        f" --key {d['key']}`."
    ),
    "key_mismatch": lambda d: (
        f"Import with --key {d['key']}, or with --replace to change the key."
    ),
    "key_column_missing": lambda _: "Pass --key with one of these.",
    "key_column_needed": lambda _: "Pass --key COLUMN to choose the key.",
    "columns_differ": lambda _: "Import with --replace to change the table's columns.",
    "table_unreadable": lambda _: "Import the table again with --replace.",
    "hold_outdated": lambda d: (
        f"Run `audiencesync profiles discard {d['table']}`, then"
        " `audiencesync refresh`."
    ),
    "invalid_cron": lambda d: (  # "refresh" or "manual" given as the refresh schedule
        ""
        if "schedule" in d
        else "Run `audiencesync schedule clear` to switch them off."
    ),
    # runs
    "run_not_found": lambda _: "See `audiencesync runs list`.",
    "run_failed": lambda d: f"See `audiencesync runs show {d['run_id']}`.",
    "run_in_progress": lambda d: (
        f"Cancel it with `audiencesync runs cancel {d['run_id']}`."
    ),
}


def error_line(error: AudiencesyncError, flags: Mapping[str, str] = FLAGS) -> str:
    """``Error: <message>`` and, when the code has one, the command that fixes it.

    An error about a field with a flag in ``flags`` names it first:
    ``Error: --removal-brake: The removal brake 150 is out of range: ...``.
    """
    flag = flags.get(error.field or "")
    line = f"Error: {flag}: {error}" if flag else f"Error: {error}"
    hint = HINTS.get(error.code)
    if hint is None:
        return line
    try:
        fix = hint(error.details)
    except KeyError:  # a raise site without the parameters: the message alone
        return line
    return f"{line} {fix}" if fix else line


def run_hint(
    run_id: int, status: RunStatus, *, note: str | None, export_removed: bool
) -> str | None:
    """The command a run in ``status`` calls for (its stored note says it in words).

    A Held run whose export was removed, or that a newer run superseded, can no
    longer be approved: its note says so, and no command is offered.
    """
    if status is RunStatus.HELD:
        if export_removed or (note or "").startswith(SUPERSEDED):
            return None
        return (
            f"Approve the held removals with `audiencesync runs approve {run_id}`"
            f" or discard them with `audiencesync runs discard {run_id}`."
        )
    if status in {RunStatus.INTERRUPTED, RunStatus.FAILED_RETRYING}:
        return f"Resume it with `audiencesync runs resume {run_id}`."
    return None
