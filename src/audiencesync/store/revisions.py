"""Optimistic edits of revisioned rows (connections, exports, segments).

A revisioned row's ``revision`` is raised, and checked, by every UPDATE of the
row (SQLAlchemy's ``version_id_col``). An editor that read revision N edits with
``expected_revision=N``: :func:`check_revision` refuses the edit when the row
has moved on, and :func:`stale_edits` turns a row changed by someone else
between reading and writing (the UPDATE matched no row) into the same error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from audiencesync.errors import StaleEditError


class Revisioned(Protocol):
    """A row with a name and a revision."""

    @property
    def name(self) -> str:
        """The row's name, for messages."""
        ...

    @property
    def revision(self) -> int:
        """The row's current revision."""
        ...


def stale_message(subject: str, name: str) -> str:
    """The message of a refused stale edit."""
    return (
        f"The {subject} {name!r} was changed by someone else since you read it."
        " Nothing was saved: read it again and redo your change."
    )


def check_revision(row: Revisioned, expected: int | None, *, subject: str) -> None:
    """Raise StaleEditError when ``expected`` is given and is not the row's."""
    if expected is None or expected == row.revision:
        return
    raise StaleEditError(
        stale_message(subject, row.name),
        details={
            subject: row.name,
            "expected_revision": expected,
            "revision": row.revision,
        },
    )


@contextmanager
def stale_edits(subject: str, name: str) -> Iterator[None]:
    """Turn a concurrent change (the UPDATE matched no row) into StaleEditError."""
    try:
        yield
    except StaleDataError as exc:
        details = {subject: name.strip()}
        raise StaleEditError(
            stale_message(subject, name.strip()), details=details
        ) from exc


def touch(row: object) -> None:
    """Make the row's next flush an UPDATE, so its revision moves.

    For edits that change only child rows (an export's segment links), or set
    ``updated_at`` to the value it had (a pinned clock).
    """
    flag_modified(row, "updated_at")
