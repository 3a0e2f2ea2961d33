"""Which connections reach the same Iterable project (one list, one feeder).

Two connections write to the same project's lists when they call the same API
root (the base URL, or the region's) with the same API key. Keys are stored
encrypted: the last four characters, kept in clear, are compared first, and the
keys themselves only when a way to read them is given. A key that cannot be
read counts as the same when everything else matches: a false "same project"
refuses a save with a clear message, a false "different" would let two
bindings fight over one list.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.core.secrets import SecretUnreadableError
from audiencesync.iterable.regions import Region, resolve_base_url
from audiencesync.store.destinations import Connection

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Reveal = Callable[[Connection], str]  # a connection's API key, in clear


def same_project_ids(
    session: Session, connection_id: int, *, reveal: Reveal | None = None
) -> frozenset[int]:
    """The connections (``connection_id`` included) on the same Iterable project."""
    row = session.get_one(Connection, connection_id)
    others = session.scalars(
        select(Connection).where(
            Connection.id != row.id, Connection.key_last4 == row.key_last4
        )
    )
    root = _api_root(row)
    peers = {row.id}
    peers.update(
        other.id
        for other in others
        if _api_root(other) == root and _same_key(row, other, reveal)
    )
    return frozenset(peers)


def _api_root(row: Connection) -> str:
    try:
        region = Region(row.region) if row.region else Region.US
        return str(resolve_base_url(region, row.base_url)).lower()
    except ValueError:
        return f"{row.region}|{row.base_url}"


def _same_key(first: Connection, second: Connection, reveal: Reveal | None) -> bool:
    if reveal is None:
        return True  # the last four characters already match
    try:
        one, other = reveal(first), reveal(second)
    except SecretUnreadableError:
        return True
    return hmac.compare_digest(one.encode(), other.encode())
