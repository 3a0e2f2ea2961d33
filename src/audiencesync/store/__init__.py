"""The control-plane database: models, sessions and Alembic migrations.

Open it with :meth:`Database.open` (the URL comes from
:attr:`audiencesync.settings.Settings.database`); ``audiencesync init`` creates
it and upgrades it to :func:`head_revision`; every other command calls
:meth:`Database.ensure_current` first.
"""

from __future__ import annotations

from audiencesync.store.accounts import ApiToken, AuditEvent, SystemSetting, User
from audiencesync.store.database import Database, database_file, display_url
from audiencesync.store.destinations import Connection, Export, ExportSegment
from audiencesync.store.models import Base, Segment, SegmentEvaluation, UTCDateTime
from audiencesync.store.runs import (
    Binding,
    ExportLock,
    FinalReject,
    RejectFile,
    Run,
    RunBatch,
    RunReject,
    RunSegment,
)
from audiencesync.store.schema import head_revision

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Binding",
    "Connection",
    "Database",
    "Export",
    "ExportLock",
    "ExportSegment",
    "FinalReject",
    "RejectFile",
    "Run",
    "RunBatch",
    "RunReject",
    "RunSegment",
    "Segment",
    "SegmentEvaluation",
    "SystemSetting",
    "UTCDateTime",
    "User",
    "database_file",
    "display_url",
    "head_revision",
]
