"""What the command line adds to an error: the command that fixes it.

Errors carry a stable code and the parameters of their fix (see
:mod:`audiencesync.errors`); their messages never name a command, since they may
be stored or e-mailed. The command line renders the fix as a command here; the
web UI renders the same codes as links.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from audiencesync.errors import AudiencesyncError

Hint = Callable[[Mapping[str, object]], str]

HINTS: dict[str, Hint] = {
    "not_initialised": lambda d: (
        f"Run `audiencesync init --home {d['home']}` first, or point --home"
        " (AUDIENCESYNC_HOME) at an existing one."
    ),
}


def error_line(error: AudiencesyncError) -> str:
    """``Error: <message>`` and, when the code has one, the command that fixes it."""
    line = f"Error: {error}"
    hint = HINTS.get(error.code)
    if hint is None:
        return line
    try:
        fix = hint(error.details)
    except KeyError:  # a raise site without the parameters: the message alone
        return line
    return f"{line} {fix}"
