"""Retry policy, ``Retry-After`` parsing and the stamina backoff hook.

Only :class:`RetryableError` (429, 5xx, network, a list not ready yet, an
unreadable 2xx) is retried; everything else surfaces at once. A server's
``Retry-After`` replaces the exponential backoff for that attempt.
"""

from __future__ import annotations

import email.utils
import logging
import math
from dataclasses import dataclass

import httpx

from audiencesync.errors import RetryableError
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.errors import (
    MalformedResponseError,
    NetworkError,
    ServerError,
)

logger = logging.getLogger("audiencesync.iterable")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long one call is retried (stamina's parameters)."""

    attempts: int = 8
    timeout: float = 300.0
    wait_initial: float = 0.5
    wait_max: float = 30.0
    wait_jitter: float = 1.0
    retry_after_max: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.timeout <= 0 or self.retry_after_max < 0:
            msg = f"retry policy needs attempts >= 1 and timeouts > 0, got {self}"
            raise ValueError(msg)


def parse_retry_after(
    value: str | None, *, now_wall: float, cap: float
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Garbage and absent headers give ``None``; dates in the past give ``0.0``;
    anything beyond ``cap`` is capped.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds: float | None = float(text)
    except ValueError:
        seconds = _seconds_until_date(text, now_wall)
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), cap)


def _seconds_until_date(text: str, now_wall: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_wall)


def may_have_applied(exc: BaseException) -> bool:
    """Whether a failed write may still have been applied by Iterable.

    True once the request could have reached the server: its answer was lost
    (a read timeout, a dropped connection), was a 5xx, or was unreadable. A
    refused connection and a 429 (or any 4xx) were not applied.
    """
    if isinstance(exc, ServerError | MalformedResponseError):
        return True
    if isinstance(exc, NetworkError):
        return not isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
    return False


class RetryDecider:
    """stamina backoff hook for one call; remembers why and how long for the log."""

    def __init__(self, endpoint: Endpoint, policy: RetryPolicy) -> None:
        self.endpoint = endpoint
        self.policy = policy
        self.last_error: BaseException | None = None
        self.last_wait: float | None = None

    def __call__(self, exc: Exception) -> bool | float:
        """``True`` to back off, seconds to wait as told, ``False`` to give up."""
        if not isinstance(exc, RetryableError | httpx.TransportError):
            return False
        self.last_error = exc
        retry_after = getattr(exc, "retry_after", None)
        self.last_wait = retry_after
        return True if retry_after is None else retry_after

    def log_retry(self, attempt: int) -> None:
        """One INFO/WARNING line for a retry: endpoint, attempt, status, code, wait."""
        error = self.last_error
        status = getattr(error, "status", None)
        code = getattr(error, "iterable_code", None)
        kind = type(error).__name__
        wait = "backoff" if self.last_wait is None else f"{self.last_wait:.2f}s"
        late = attempt >= self.policy.attempts // 2
        level = logging.WARNING if late else logging.INFO
        logger.log(
            level,
            "retrying %s: attempt %d of %d after %s (status %s, code %s), wait %s",
            self.endpoint,
            attempt,
            self.policy.attempts,
            kind,
            status,
            code,
            wait,
        )
