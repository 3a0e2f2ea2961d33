"""What the Iterable client raises, on the branches of :mod:`audiencesync.errors`.

::

    IterableError (mixin: endpoint, status, iterable_code)
    ├── FatalError ─────── InvalidKeyError         401: wrong key, key type or region
    │                      ForbiddenError          403
    │                      RequestRejectedError    400 BadParams/BadJsonBody, other 4xx
    │                      InvalidDataError        a single user's fields were refused
    │                      ClientSetupError        the request cannot be sent at all
    ├── RetryableError ─── RateLimitedError        429 (``retry_after`` when told)
    │                      ServerError             5xx
    │                      NetworkError            timeout, refused or dropped link
    │                      ListNotReadyError       invalidListId on a list just created
    │                      MalformedResponseError  a 2xx whose body cannot be read
    ├── SplittableError ── BatchTooLargeError      413 or code BatchTooLarge
    │                      PoisonBatchError        one row's fields refused it all
    └── ListGoneError ──── ListNotFoundError       invalidListId on an older list

Messages name the endpoint template, the status and Iterable's code, never the
API key, an email, a userId or a field value. ``detail`` holds Iterable's own
``msg``, scrubbed of the key and the identifiers sent (for reject reasons).
"""

from __future__ import annotations

from audiencesync.errors import (
    AudiencesyncError,
    FatalError,
    ListGoneError,
    RetryableError,
    SplittableError,
)


class IterableError(AudiencesyncError):
    """Raised when an Iterable call fails; the base of every client error."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status: int | None = None,
        iterable_code: str | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.iterable_code = iterable_code  # Iterable's own code, e.g. BadApiKey
        self.detail = detail


class InvalidKeyError(IterableError, FatalError):
    """Raised on 401: the key is wrong, of the wrong type, or for the other region."""


class ForbiddenError(IterableError, FatalError):
    """Raised on 403: the key may not call this endpoint."""


class RequestRejectedError(IterableError, FatalError):
    """Raised on a 4xx that retrying cannot fix (BadParams, BadJsonBody, 404, 409)."""


class InvalidDataError(IterableError, FatalError):
    """Raised when Iterable refuses one user's fields (RequestFieldsTypesMismatched)."""


class ClientSetupError(IterableError, FatalError):
    """Raised when httpx cannot even send the request (bad URL or protocol)."""


class IterableRetryableError(IterableError, RetryableError):
    """Raised when the same request may succeed later; base of the retryable ones."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status: int | None = None,
        iterable_code: str | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            status=status,
            iterable_code=iterable_code,
            detail=detail,
        )
        self.retry_after = retry_after


class RateLimitedError(IterableRetryableError):
    """Raised on 429 RateLimitExceeded; ``retry_after`` holds the server's wait."""


class ServerError(IterableRetryableError):
    """Raised on a 5xx answer."""


class NetworkError(IterableRetryableError):
    """Raised on a timeout, a refused connection or one dropped mid-response."""


class ListNotReadyError(IterableRetryableError):
    """Raised on invalidListId for a list this client created moments ago."""


class MalformedResponseError(IterableRetryableError):
    """Raised when a 2xx body is not the JSON or text the endpoint promises."""


class BatchTooLargeError(IterableError, SplittableError):
    """Raised on 413 or code BatchTooLarge: send the batch in smaller parts."""


class PoisonBatchError(IterableError, SplittableError):
    """Raised when one row's field types make Iterable refuse a whole bulk call."""


class ListNotFoundError(IterableError, ListGoneError):
    """Raised on invalidListId for a list that is not brand new: it was deleted."""
