"""Sync state of one binding: who Iterable acknowledged as list members because of us.

One Parquet file per binding::

    email        VARCHAR  normalised (trimmed, lowercased), unique
    user_id      VARCHAR  the userId sent with it, or NULL
    field_hash   VARCHAR  MD5 hex of the dataFields JSON sent, or NULL (none mapped)

A missing file is an empty state. Every file the engine writes carries its
identity in the Parquet key-value metadata (:class:`StateIdentity`): the
binding's ``state_key`` (a random uuid kept in the control-plane database) and
the Iterable list id its rows were acknowledged for. A file whose identity does
not match the binding and list about to be planned is not that binding's state
(see :mod:`audiencesync.sync.state_trust`). :func:`commit_state` derives the next state
from the previous one and a plan's acknowledged batches; it is idempotent (a
crash during commit is repaired by committing again: the file comes out
byte-identical) and atomic (the file is replaced whole, see
:mod:`audiencesync.sync.files`). Its rows keep a stable order without a sort
by email: the previous state's rows that the plan left alone, in their order,
then the plan's applied subscribe rows, in the plan's order.

Rejected rows are given as a Parquet file with columns ``batch`` and ``email``:
the identifiers Iterable refused inside a batch it acknowledged. They are left
as they were: a rejected subscribe does not enter the state (or keeps its old
hash), a rejected unsubscribe stays.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audiencesync.core.parquet_facts import parquet_key_values, parquet_rows
from audiencesync.profiles.identifiers import quote_literal
from audiencesync.sync.files import flush, read_relation, write_parquet
from audiencesync.sync.scratch import STATE_MEMORY_LIMIT, open_scratch

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

SHORT_SEND_BATCHES = 64  # a send this short overlaps little with preparing the state
_EMPTY_STATE = """
    SELECT CAST(NULL AS VARCHAR) AS email, CAST(NULL AS VARCHAR) AS user_id,
        CAST(NULL AS VARCHAR) AS field_hash, CAST(NULL AS BIGINT) AS position
    WHERE false
"""
_NO_REJECTS = (
    "SELECT CAST(NULL AS BIGINT) AS batch, CAST(NULL AS VARCHAR) AS email WHERE false"
)


_KEY, _LIST = "audiencesync_state_key", "audiencesync_list_id"


@dataclass(frozen=True, slots=True)
class StateIdentity:
    """Whose sync state a file is: the binding's state key and its list's id."""

    state_key: str
    list_id: int

    def metadata(self) -> dict[str, str]:
        """The identity as Parquet key-value metadata."""
        return {_KEY: self.state_key, _LIST: str(self.list_id)}


def read_identity(path: Path) -> StateIdentity | None:
    """The identity written into the state file ``path``; None if it has none.

    Files written before identities existed (and files that are not ours) have
    none. Raises OSError or ValueError when the file is unreadable.
    """
    raw = parquet_key_values(path)
    key, list_id = raw.get(_KEY), raw.get(_LIST)
    if key is None or list_id is None or not list_id.isdigit():
        return None
    return StateIdentity(key, int(list_id))


@dataclass(frozen=True, slots=True)
class StateSummary:
    """What a commit did: rows now in the state and the plan rows it applied."""

    members: int
    subscribed: int
    unsubscribed: int
    excluded: int


def load_state(con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
    """Create ``state``: a view of the file at ``path``, an empty table without one.

    A view, not a copy: a 10-million-row state is read where it is used.
    ``position`` is each row's place in the file. (The empty state is a table
    so that DuckDB knows its columns hold no NULL, as a file's statistics tell
    it: the next state file is written alike either way.)
    """
    if path is None or not path.exists():
        con.execute(f"CREATE TABLE state AS {_EMPTY_STATE}")
        return
    rows = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
    con.execute(f"""
        CREATE VIEW state AS SELECT email, user_id, field_hash,
            file_row_number AS position FROM {rows}
    """)  # noqa: S608 -- a quoted path


def expected_members(state: Path) -> int:
    """How many members the binding's list should have, by the sync state."""
    if not state.exists():
        return 0
    return parquet_rows(state)


def commit_state(
    state: Path,
    plan: Path,
    acked: Collection[int],
    *,
    identity: StateIdentity | None = None,
    rejected: Path | None = None,
) -> StateSummary:
    """Apply the ``acked`` batches of ``plan`` to ``state``, minus ``rejected`` rows.

    The file written carries ``identity`` (the engine always gives one).
    """
    with open_scratch(plan.parent, memory_limit=STATE_MEMORY_LIMIT) as con:
        _write_next(con, state, plan, acked, rejected, out=state, identity=identity)
        return _summarise(con, state)


def prepare_state(
    state: Path,
    plan: Path,
    batches: int,
    *,
    out: Path,
    identity: StateIdentity | None = None,
) -> Path:
    """Write to ``out`` the state a commit of all ``batches`` of ``plan`` would make.

    Made while those batches are being sent: when every batch is then
    acknowledged without a refusal, :func:`adopt_state` puts it in place instead
    of a commit. ``state`` must not change meanwhile (only the run holding the
    export writes it). A long send (more than :data:`SHORT_SEND_BATCHES`
    batches) leaves the other cores to the sending: one thread is enough to be
    ready in time. A short one would be over before a single thread is done
    (20 batches of a 1 % change to 1,000,000 members: 0.15 s of sending, 0.25 s
    to prepare on one thread, 0.15 s on two), so it uses every core.
    """
    threads = 1 if batches > SHORT_SEND_BATCHES else None
    with open_scratch(
        out.parent, memory_limit=STATE_MEMORY_LIMIT, threads=threads
    ) as con:
        _write_next(con, state, plan, range(1, batches + 1), None, out=out,
                    identity=identity)  # fmt: skip
    return out


def _write_next(
    con: duckdb.DuckDBPyConnection,
    state: Path,
    plan: Path,
    acked: Collection[int],
    rejected: Path | None,
    *,
    out: Path,
    identity: StateIdentity | None,
) -> None:
    """Write to ``out`` the state after applying ``acked`` batches of ``plan``."""
    load_state(con, state)
    _load_applied(con, plan, acked, rejected)
    metadata = identity.metadata() if identity is not None else None
    write_parquet(con, _NEXT_SQL, out, metadata=metadata)


def adopt_state(prepared: Path, state: Path) -> None:
    """Make ``prepared`` (see :func:`prepare_state`) the state, atomically."""
    state.parent.mkdir(parents=True, exist_ok=True)
    prepared.replace(state)
    flush(state.parent)


# Positions are integers: ordering by them costs a fraction of a sort by email.
_NEXT_SQL = """
    SELECT email, user_id, field_hash FROM (
        SELECT 0 AS part, s.position, s.email, s.user_id, s.field_hash
        FROM state s
        WHERE NOT EXISTS (SELECT 1 FROM applied a WHERE a.email = s.email)
        UNION ALL
        SELECT 1, position, email, user_id, field_hash FROM applied
        WHERE action = 'subscribe')
    ORDER BY part, position
"""


def _load_applied(
    con: duckdb.DuckDBPyConnection,
    plan: Path,
    acked: Collection[int],
    rejected: Path | None,
) -> None:
    """``applied``: the acked plan rows Iterable did not refuse, with their position.

    A table, not a view: the next state's columns are NOT NULL exactly when
    these rows hold no NULL (the plan file's statistics cover every batch).
    """
    if not plan.exists():
        msg = f"there is no plan at {plan}: plan the binding before committing"
        raise FileNotFoundError(msg)
    # A list parameter, not a registered Arrow table: registering a table makes
    # DuckDB import pandas where it is installed (0.2-0.3 s of a churn run).
    con.execute(
        "CREATE TABLE acked AS SELECT unnest(CAST(? AS BIGINT[])) AS batch",
        [sorted(acked)],
    )
    source = read_relation(rejected, empty=_NO_REJECTS)
    con.execute(f"""
        CREATE TABLE rejected AS SELECT DISTINCT CAST(batch AS BIGINT) AS batch,
        lower(trim(CAST(email AS VARCHAR))) AS email FROM ({source})
    """)  # noqa: S608 -- a quoted path
    rows = f"read_parquet({quote_literal(str(plan))}, file_row_number = true)"
    con.execute(f"""
        CREATE TABLE applied AS
        SELECT p.batch, p.action, p.email, p.user_id, p.field_hash,
            p.file_row_number AS position
        FROM {rows} p
        WHERE p.batch IN (SELECT batch FROM acked) AND NOT EXISTS (
            SELECT 1 FROM rejected r WHERE r.batch = p.batch AND r.email = p.email)
    """)  # noqa: S608 -- quoted path
    con.execute(f"""
        CREATE TABLE acked_rows AS SELECT count(*) AS rows FROM {rows}
        WHERE batch IN (SELECT batch FROM acked)
    """)  # noqa: S608 -- quoted path


def _summarise(con: duckdb.DuckDBPyConnection, state: Path) -> StateSummary:
    row = con.execute("""
        SELECT (SELECT count(*) FROM applied WHERE action = 'subscribe'),
            (SELECT count(*) FROM applied WHERE action = 'unsubscribe'),
            (SELECT rows FROM acked_rows) - (SELECT count(*) FROM applied)
    """).fetchone()
    subscribed, unsubscribed, excluded = row if row else (0, 0, 0)
    return StateSummary(expected_members(state), subscribed, unsubscribed, excluded)
