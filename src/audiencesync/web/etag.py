"""Optimistic edits: a resource's revision is its ETag; a stale If-Match is 412.

Connections, exports and segments carry a revision that every change raises
(and checks, in the same UPDATE). ``GET`` answers ``ETag: "<revision>"``; an
edit may send ``If-Match`` with it. Without ``If-Match`` the edit applies to the
current revision; with a stale one it is refused, never silently applied.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from audiencesync.web.errors import ApiError, printable

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag the editor read, e.g. "3"; a stale one is refused (412).',
    ),
]


def etag_of(revision: int) -> str:
    """The strong ETag of a revision."""
    return f'"{revision}"'


def set_etag(response: Response, revision: int) -> None:
    """Send the revision as the response's ETag."""
    response.headers["ETag"] = etag_of(revision)


def expected_revision(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` header names (None when absent or ``*``)."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ApiError(
            412,
            "stale_edit",
            'If-Match must be the ETag this resource was read with, such as "3".',
            details={"if_match": printable(if_match[:40])},
        )
    return int(text)
