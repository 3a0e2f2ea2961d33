"""Reading a sync state back in tests: its rows as the planner sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from audiencesync.sync.state import state_rows_sql

if TYPE_CHECKING:
    from pathlib import Path


def state_rows(state: Path) -> list[tuple[str, str | None, str | None]]:
    """The state's (email, user_id, field_hash) rows, in its order; none without one."""
    query = state_rows_sql(state, ordered=True)
    if query is None:
        return []
    with duckdb.connect() as con:
        return [(str(e), u, h) for e, u, h in con.execute(query).fetchall()]


def state_emails(state: Path) -> list[str]:
    """The state's emails, in its order."""
    return [email for email, _, _ in state_rows(state)]
