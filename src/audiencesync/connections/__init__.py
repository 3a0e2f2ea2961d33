"""Iterable connections: consent, key checks, encrypted keys, sharing, export user.

See ``docs/connections.md``. :class:`ConnectionService` is the entry point; the
workspace builds it with a :class:`~audiencesync.core.secrets.KeyRing` and an
:class:`IterableKeyVerifier`.
"""

from __future__ import annotations

from audiencesync.connections.consent import (
    CONSENT_VERSION,
    PRIVACY_STATEMENT,
    ConsentRequiredError,
)
from audiencesync.connections.records import (
    ConnectionInfo,
    ConnectionSettings,
    ConnectionState,
    ConnectionStatus,
    Consent,
    ExportCredentials,
)
from audiencesync.connections.rotation import RotationReport
from audiencesync.connections.service import ConnectionService
from audiencesync.connections.verifier import (
    IterableKeyVerifier,
    KeyRejectedError,
    KeyVerifier,
)

__all__ = [
    "CONSENT_VERSION",
    "PRIVACY_STATEMENT",
    "ConnectionInfo",
    "ConnectionService",
    "ConnectionSettings",
    "ConnectionState",
    "ConnectionStatus",
    "Consent",
    "ConsentRequiredError",
    "ExportCredentials",
    "IterableKeyVerifier",
    "KeyRejectedError",
    "KeyVerifier",
    "RotationReport",
]
