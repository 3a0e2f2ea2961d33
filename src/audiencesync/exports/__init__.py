"""Exports: where segments go, how their profiles are mapped, and when they run.

:class:`ExportService` saves, changes, lists, detaches and removes export setups;
sending data is the sync runner's job. :func:`exports_using_segment` tells the
segment service which exports would lose a segment it is asked to delete.
"""

from __future__ import annotations

from audiencesync.exports.checks import LARGE_SEGMENT
from audiencesync.exports.fields import MANAGED_FIELDS, parse_field_options
from audiencesync.exports.records import (
    NO_CONNECTION,
    ExportCreated,
    ExportInfo,
    exports_using_segment,
)
from audiencesync.exports.service import ExportService
from audiencesync.exports.setup import UNCHANGED, Unchanged

__all__ = [
    "LARGE_SEGMENT",
    "MANAGED_FIELDS",
    "NO_CONNECTION",
    "UNCHANGED",
    "ExportCreated",
    "ExportInfo",
    "ExportService",
    "Unchanged",
    "exports_using_segment",
    "parse_field_options",
]
