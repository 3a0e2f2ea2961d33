"""Async client for Iterable's list and user APIs.

``IterableClient`` is the entry point; the rest are the value objects, policies
and exceptions its calls take and return. See ``docs/client.md``.
"""

from __future__ import annotations

from audiencesync.core.window import RateLimit
from audiencesync.iterable.batching import Batch, BatchPolicy, Unsendable
from audiencesync.iterable.client import IterableClient
from audiencesync.iterable.credentials import ApiKey
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.errors import (
    BatchTooLargeError,
    ClientSetupError,
    ForbiddenError,
    InvalidDataError,
    InvalidKeyError,
    IterableError,
    IterableRetryableError,
    ListNotFoundError,
    ListNotReadyError,
    MalformedResponseError,
    NetworkError,
    PoisonBatchError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)
from audiencesync.iterable.limits import (
    DOCUMENTED_LIMITS,
    AdaptiveLimiter,
    AdaptivePolicy,
    Limiter,
    Limits,
    WindowLimiter,
)
from audiencesync.iterable.models import (
    BulkResult,
    IdentifierKind,
    IterableList,
    ListType,
    RejectBucket,
    Rejection,
    Subscriber,
    UserProfile,
)
from audiencesync.iterable.regions import Region
from audiencesync.iterable.retry import RetryPolicy, parse_retry_after
from audiencesync.iterable.sending import BatchOutcome
from audiencesync.iterable.stats import EndpointStats

__all__ = [
    "DOCUMENTED_LIMITS",
    "AdaptiveLimiter",
    "AdaptivePolicy",
    "ApiKey",
    "Batch",
    "BatchOutcome",
    "BatchPolicy",
    "BatchTooLargeError",
    "BulkResult",
    "ClientSetupError",
    "Endpoint",
    "EndpointStats",
    "ForbiddenError",
    "IdentifierKind",
    "InvalidDataError",
    "InvalidKeyError",
    "IterableClient",
    "IterableError",
    "IterableList",
    "IterableRetryableError",
    "Limiter",
    "Limits",
    "ListNotFoundError",
    "ListNotReadyError",
    "ListType",
    "MalformedResponseError",
    "NetworkError",
    "PoisonBatchError",
    "RateLimit",
    "RateLimitedError",
    "Region",
    "RejectBucket",
    "Rejection",
    "RequestRejectedError",
    "RetryPolicy",
    "ServerError",
    "Subscriber",
    "Unsendable",
    "UserProfile",
    "WindowLimiter",
    "parse_retry_after",
]
