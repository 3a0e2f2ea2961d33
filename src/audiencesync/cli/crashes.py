"""Unexpected errors: one line for the user, the details in a log file.

A bug, or a fault nobody translated, must never print a traceback (it can quote
a profile value or a key from a local variable's repr or an exception's text).
The user reads one line naming the error's type and where the details went; the
log (``<home>/logs/audiencesync.log``, mode 0600 in a 0700 folder) gets the
traceback's frames (file, line, function and source line) and the type of each
chained exception, but never an exception's message or a variable's value: only
code and names, so it holds no secret and no profile data.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "audiencesync.log"


MAX_LOG_BYTES = 1_000_000  # the log is moved aside (one older copy) past this size


def log_path(home: Path) -> Path:
    """Where unexpected errors of the data folder ``home`` are logged."""
    return home / "logs" / LOG_NAME


NOT_UTF8 = (
    "Error: a name, condition or other text given to audiencesync holds bytes that"
    " are not UTF-8 text. Type it again as UTF-8 (check the terminal's encoding)."
)


def is_undecodable_text(exc: BaseException) -> bool:
    """Whether ``exc`` is text with bytes that were not UTF-8 (argv, stdin)."""
    return isinstance(exc, UnicodeEncodeError) and "surrogates" in exc.reason


def leave_quietly() -> None:
    """The reader of our output went away (``| head``): drop what is left of it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        return


def report_unexpected(exc: BaseException, argv: list[str] | None = None) -> str:
    """Log ``exc`` safely in the data folder; the one line to show the user."""
    kind = type(exc).__name__
    line = f"Error: an unexpected {kind} stopped audiencesync (a bug)."
    if _is_damaged_sqlite(exc):
        line = (
            "Error: the database file is damaged (SQLite says it is malformed)."
            " Restore it from a backup, or move it away and run `audiencesync"
            " init` to start a new one."
        )
    home = _home(sys.argv[1:] if argv is None else argv)
    if home is None or not home.is_dir():
        return f"{line} No data folder to log the details in."
    try:
        path = write_details(log_path(home), exc)
    except OSError:
        return f"{line} Its details could not be logged in {home}."
    return f"{line} Details (no data, no secrets) were logged to {path}."


def write_details(path: Path, exc: BaseException) -> Path:
    """Append ``exc``'s frames and types (never its text) to ``path`` (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
        path.replace(path.with_name(path.name + ".1"))  # keep one older log
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    descriptor = os.open(path, flags, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as log:
        log.write(details(exc))
    return path


def details(exc: BaseException) -> str:
    """``exc`` as a traceback without values: frames and exception types only."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    parts = [f"--- {stamp} unexpected {_name(exc)}\n"]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        parts.append(f"{_name(current)}, raised at:\n")
        parts.extend(_frame(frame) for frame in frames)
        current = current.__cause__ or current.__context__
        if current is not None:
            parts.append("while handling, or caused by:\n")
    return "".join(parts)


def _is_damaged_sqlite(exc: BaseException) -> bool:
    """A SQLite file found damaged mid-command (not a lock, not a constraint)."""
    orig = getattr(exc, "orig", None)
    return type(orig) is sqlite3.DatabaseError


def _frame(frame: traceback.FrameSummary) -> str:
    source = (frame.line or "").strip()
    where = f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
    return f"{where}\n    {source}\n"


def _name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def _home(argv: list[str]) -> Path | None:
    """The data folder the command was given (``--home``), else the settings'."""
    for index, arg in enumerate(argv):
        if arg == "--home" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--home="):
            return Path(arg.removeprefix("--home="))
    from audiencesync.settings import load_settings

    try:
        settings = load_settings()
    except Exception:
        return None
    return Path(settings.home)
