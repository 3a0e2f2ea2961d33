"""One error root for audiencesync, split by what the caller should do.

::

    AudiencesyncError        anything audiencesync raises on purpose
    ├── ConfigError          settings or flags are wrong: fix them and run again
    │   ├── SourceError      an input file is unreadable or malformed: fix the file
    │   ├── RuleError        a segment definition is invalid: fix the rule
    │   │   └── EvaluationError  the engine cannot evaluate it on the data
    │   ├── NotFoundError    a named thing (segment, table, ...) does not exist
    │   └── ConflictError    the name or change clashes with what exists
    │       └── StaleEditError   edited since the editor read it: read it again
    ├── AccessDeniedError    the acting user may not do this: ask an administrator
    ├── FatalError           stop: a person must act (bad key, forbidden, bad input)
    │   └── ExportUserError  the connection's export user is no longer authorised
    ├── RetryableError       transient: wait and try the same thing again
    ├── SplittableError      one batch is refused as a whole: split it and retry
    └── ListGoneError        the destination list no longer exists: recreate it

Messages say what happened, with which value, and what to do. They never contain
an API key, an email address or any other profile value.

Every error also carries a stable ``code`` (a class default, or a more precise
one given at the raise site), the input ``field`` it is about when there is
one, and ``details``: the parameters an interface needs to render its own hint
(a command on the CLI, a link in the web UI). A message never names a command:
it may be stored in a run record or sent by e-mail, and read far from a shell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class AudiencesyncError(Exception):
    """Root of every error audiencesync raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        field: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code  # type: ignore[misc]  # a precise code for this raise
        self.field = field
        self.details: dict[str, object] = dict(details or {})


class ConfigError(AudiencesyncError):
    """Raised when settings, flags or input files are invalid."""

    code = "invalid"


class SourceError(ConfigError):
    """Raised when an input file cannot be read or holds malformed data."""

    code = "invalid_source"


class RuleError(ConfigError):
    """Raised when a segment definition does not parse or does not fit the schema."""

    code = "invalid_rule"


class EvaluationError(RuleError):
    """Raised when the profile engine cannot evaluate a segment's condition.

    The condition compiled, but the engine refused it (an invalid ESCAPE) or the
    data broke it (a cast that fails on a value, a number out of range).
    """

    code = "unevaluable_rule"


class NotFoundError(ConfigError):
    """Raised when a named segment, table, column or setting does not exist."""

    code = "not_found"


class ConflictError(ConfigError):
    """Raised when a name is taken or a change clashes with existing data."""

    code = "conflict"


class StaleEditError(ConflictError):
    """Raised when an edit names a revision that is no longer the current one."""

    code = "stale_edit"


class AccessDeniedError(AudiencesyncError):
    """Raised when the acting user's role or a connection's sharing forbids it."""

    code = "forbidden"


class FatalError(AudiencesyncError):
    """Raised when retrying cannot help and a person must act."""

    code = "fatal"


class ExportUserError(FatalError):
    """Raised when a connection's export user was removed or lost the admin role."""

    code = "export_user_unauthorised"


class RetryableError(AudiencesyncError):
    """Raised when the same request may succeed later.

    ``retry_after`` is the wait the server asked for, in seconds, when it said.
    """

    code = "retry_later"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after


class SplittableError(AudiencesyncError):
    """Raised when a batch is refused as a whole and its halves may pass."""

    code = "batch_refused"


class ListGoneError(AudiencesyncError):
    """Raised when a list that existed is no longer known to the destination."""

    code = "list_gone"
