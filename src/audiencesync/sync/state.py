"""Sync state of one binding: who Iterable acknowledged as list members because of us.

The state's rows::

    email        VARCHAR  normalised (trimmed, lowercased), unique
    user_id      VARCHAR  the userId sent with it, or NULL
    field_hash   VARCHAR  MD5 hex of the dataFields JSON sent, or NULL (none mapped)

They live in up to two Parquet files per binding: the *base* (the path the
engine names, :func:`~audiencesync.sync.segment_pass.state_path`) and, beside
it, its *changes* (:func:`changes_path`): rows that replace the base's row of
the same email, and tombstones (``removed``) for base rows that left. A run
that changes a few members of a large list writes only the changes, not the
whole list again; once the changes would exceed :data:`CHANGES_SHARE` of the
base (and :data:`CHANGES_FLOOR` rows), the commit writes a new base instead
(compaction) and no changes. A missing base is an empty state.

Every file the engine writes carries its identity in the Parquet key-value
metadata (:class:`StateIdentity`): the binding's ``state_key`` (a random uuid
kept in the control-plane database) and the Iterable list id its rows were
acknowledged for. A file whose identity does not match the binding and list
about to be planned is not that binding's state (see
:mod:`audiencesync.sync.state_trust`). A base also carries its *generation*,
and a changes file the generation of the base it applies to: changes whose
generation or identity is not the base's are not part of the state (left
over from a base since replaced or removed) and are ignored, so every write
is one atomic file replacement (:mod:`audiencesync.sync.files`) and a crash
at any point leaves a consistent state.

:func:`commit_state` derives the next state from the previous one and a plan's
acknowledged batches. It is idempotent: a crash during commit is repaired by
committing again, which gives the same rows (the same file when it wrote a
base: a base's generation is derived from the plan and the batches applied).
Its rows keep a stable order without a sort by email: the base's rows that no
change touched, in their order, then the changed rows, in their order (a
commit's applied subscribe rows follow in the plan's order).

Rejected rows are given as a Parquet file with columns ``batch`` and ``email``:
the identifiers Iterable refused inside a batch it acknowledged. They are left
as they were: a rejected subscribe does not enter the state (or keeps its old
hash), a rejected unsubscribe stays.
"""

from __future__ import annotations

import hashlib
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
CHANGES_SHARE = 0.25
CHANGES_FLOOR = 10_000
"""Changes up to this many rows, or this share of the base's, are written as changes.

More, and a commit writes a new base. Reading the changes costs every plan a
little (each base row is looked up in them), writing a base costs a commit the
whole list: a 1 % churn adds about 2 % of the base a run (joins and
tombstones), so a large base is rewritten every dozen such runs.
"""
_EMPTY_STATE = """
    SELECT CAST(NULL AS VARCHAR) AS email, CAST(NULL AS VARCHAR) AS user_id,
        CAST(NULL AS VARCHAR) AS field_hash, CAST(NULL AS BIGINT) AS position
    WHERE false
"""
_NO_CHANGES = """
    SELECT CAST(NULL AS VARCHAR) AS email, CAST(NULL AS VARCHAR) AS user_id,
        CAST(NULL AS VARCHAR) AS field_hash, CAST(NULL AS BOOLEAN) AS removed,
        CAST(NULL AS BOOLEAN) AS in_base, CAST(NULL AS BIGINT) AS position
    WHERE false
"""
_NO_REJECTS = (
    "SELECT CAST(NULL AS BIGINT) AS batch, CAST(NULL AS VARCHAR) AS email WHERE false"
)


_COLUMNS = "email, user_id, field_hash, file_row_number"
_KEY, _LIST = "audiencesync_state_key", "audiencesync_list_id"
_GENERATION, _MEMBERS = "audiencesync_state_generation", "audiencesync_state_members"
_KIND, _BASE, _CHANGES = "audiencesync_state_kind", "base", "changes-3"
# A changes file of another kind (an unknown format) is not read: the state is
# its base alone, and the next plan sends again whom the changes had recorded
# (subscribing and unsubscribing are idempotent), as for a state not trusted.
# "changes-2" files dropped the row of a removal the base never held, so that a
# second commit of the same plan could count such a removal as the base's.


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
    return _identity(parquet_key_values(path))


def _identity(raw: dict[str, str]) -> StateIdentity | None:
    key, list_id = raw.get(_KEY), raw.get(_LIST)
    if key is None or list_id is None or not list_id.isdigit():
        return None
    return StateIdentity(key, int(list_id))


def changes_path(state: Path) -> Path:
    """Where the changes to the base ``state`` are kept (``12.changes.parquet``)."""
    return state.with_name(f"{state.stem}.changes{state.suffix}")


def remove_state(state: Path) -> None:
    """Remove the state: its changes first, so that no crash leaves them alone."""
    changes_path(state).unlink(missing_ok=True)
    state.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class StateFiles:
    """The state's files as read: the base's rows, and its live changes (if any)."""

    base: Path
    base_rows: int
    generation: str | None  # None: a base written before generations existed
    identity: StateIdentity | None
    changes: Path | None  # None: no changes, or changes not of this base
    members: int


def _files(state: Path) -> StateFiles | None:
    """The state's live files, or None for an empty state (no base)."""
    if not state.exists():
        return None
    facts = parquet_key_values(state)
    rows, generation = parquet_rows(state), facts.get(_GENERATION)
    changes = changes_path(state)
    try:
        extra = parquet_key_values(changes) if changes.exists() else None
    except (OSError, ValueError):  # a half-gone or foreign file is not ours
        extra = None
    live = (
        extra is not None
        and extra.get(_KIND) == _CHANGES
        and generation is not None
        and extra.get(_GENERATION) == generation
        and _identity(extra) == _identity(facts)
        and extra.get(_MEMBERS, "").isdigit()
    )
    if not live or extra is None:
        return StateFiles(state, rows, generation, _identity(facts), None, rows)
    members = int(extra[_MEMBERS])
    return StateFiles(state, rows, generation, _identity(facts), changes, members)


@dataclass(frozen=True, slots=True)
class StateSummary:
    """What a commit did: rows now in the state and the plan rows it applied."""

    members: int
    subscribed: int
    unsubscribed: int
    excluded: int


def load_state(con: duckdb.DuckDBPyConnection, path: Path | None) -> StateFiles | None:
    """Create ``state``: a view of the state at ``path``, an empty table without one.

    A view, not a copy: a 10-million-row base is read where it is used (its
    changes, small, are a table: ``changes``). ``position`` orders the rows:
    the base's in file order, then the changes'. (The empty state is a table
    so that DuckDB knows its columns hold no NULL, as a file's statistics tell
    it: the next state file is written alike either way.) Returns the files
    read, None for an empty state.
    """
    files = _files(path) if path is not None else None
    _load_changes(con, files)
    if files is None:
        con.execute(f"CREATE TABLE state AS {_EMPTY_STATE}")
        return None
    rows = f"read_parquet({quote_literal(str(files.base))}, file_row_number = true)"
    base = f"""
        SELECT email, user_id, field_hash, file_row_number AS position FROM {rows}
    """  # noqa: S608 -- a quoted path
    if files.changes is None:
        con.execute(f"CREATE VIEW state AS {base}")
        return files
    con.execute(f"""
        CREATE VIEW state AS
        SELECT * FROM ({base}) b
        WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.email = b.email)
        UNION ALL
        SELECT email, user_id, field_hash, {files.base_rows} + position
        FROM changes WHERE NOT removed
    """)  # noqa: S608 -- a quoted path and an integer
    return files


def _load_changes(con: duckdb.DuckDBPyConnection, files: StateFiles | None) -> None:
    """``changes``: the live changes of the state, with their place in their file."""
    if files is None or files.changes is None:
        con.execute(f"CREATE TABLE changes AS {_NO_CHANGES}")
        return
    rows = f"read_parquet({quote_literal(str(files.changes))}, file_row_number = true)"
    con.execute(f"""
        CREATE TABLE changes AS SELECT email, user_id, field_hash, removed,
            in_base, file_row_number AS position FROM {rows}
    """)  # noqa: S608 -- a quoted path


def live_changes(state: Path) -> Path | None:
    """The changes file of the state, when it has changes that are part of it."""
    files = _files(state)
    return None if files is None else files.changes


def state_rows_sql(state: Path, *, ordered: bool = False) -> str | None:
    """SQL of the state's rows (email, user_id, field_hash); None for an empty state.

    For a query on a connection of its own: it reads the files where they are.
    ``ordered``: in the state's order (the base's rows, then the changes').
    """
    files = _files(state)
    if files is None:
        return None
    base = f"read_parquet({quote_literal(str(files.base))}, file_row_number = true)"
    if files.changes is None:
        rows = f"SELECT {_COLUMNS}, 0 AS part FROM {base}"  # noqa: S608 -- a quoted path
    else:
        changes = f"read_parquet({quote_literal(str(files.changes))})"
        numbered = (
            f"read_parquet({quote_literal(str(files.changes))}, file_row_number = true)"
        )
        rows = f"""
            SELECT {_COLUMNS}, 0 AS part FROM {base} b
            WHERE NOT EXISTS (SELECT 1 FROM {changes} c WHERE c.email = b.email)
            UNION ALL
            SELECT email, user_id, field_hash, file_row_number, 1 FROM {numbered}
            WHERE NOT removed
        """  # noqa: S608 -- quoted paths
    order = " ORDER BY part, file_row_number" if ordered else ""
    return f"SELECT email, user_id, field_hash FROM ({rows}){order}"  # noqa: S608 -- quoted paths


def expected_members(state: Path) -> int:
    """How many members the binding's list should have, by the sync state."""
    files = _files(state)
    return 0 if files is None else files.members


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
        kind = _write_next(con, state, plan, acked, rejected, out=None,
                           identity=identity)  # fmt: skip
        if kind == _BASE:
            changes_path(state).unlink(missing_ok=True)  # another base's: ignored
        return _summarise(con, state)


def prepare_state(
    state: Path,
    plan: Path,
    batches: int,
    *,
    out: Path,
    identity: StateIdentity | None = None,
) -> Path:
    """Write to ``out`` the file a commit of all ``batches`` of ``plan`` would write.

    Made while those batches are being sent: when every batch is then
    acknowledged without a refusal, :func:`adopt_state` puts it in place instead
    of a commit. ``state`` must not change meanwhile (only the run holding the
    export writes it). A long send (more than :data:`SHORT_SEND_BATCHES`
    batches) leaves the other cores to the sending: one thread is enough to be
    ready in time. A short one would be over before a single thread is done
    (20 batches of a 1 % change to 1,000,000 members: 0.15 s of sending, 0.25 s
    to prepare a whole base on one thread, 0.15 s on two), so it uses every core.
    """
    threads = 1 if batches > SHORT_SEND_BATCHES else None
    with open_scratch(
        out.parent, memory_limit=STATE_MEMORY_LIMIT, threads=threads
    ) as con:
        _write_next(con, state, plan, range(1, batches + 1), None, out=out,
                    identity=identity)  # fmt: skip
    return out


def adopt_state(prepared: Path, state: Path) -> None:
    """Put ``prepared`` (see :func:`prepare_state`) in place, atomically."""
    state.parent.mkdir(parents=True, exist_ok=True)
    if parquet_key_values(prepared).get(_KIND) == _CHANGES:
        prepared.replace(changes_path(state))
        flush(state.parent)
        return
    prepared.replace(state)
    flush(state.parent)
    changes_path(state).unlink(missing_ok=True)  # another base's: ignored


def _write_next(
    con: duckdb.DuckDBPyConnection,
    state: Path,
    plan: Path,
    acked: Collection[int],
    rejected: Path | None,
    *,
    out: Path | None,
    identity: StateIdentity | None,
) -> str:
    """Write the state after applying ``acked`` batches of ``plan``; its kind.

    Written to ``out``, else to where that kind of file lives.
    """
    files = load_state(con, state)
    _load_applied(con, plan, acked, rejected)
    metadata = identity.metadata() if identity is not None else {}
    # Changes only to a base of the same owner with a generation (else: legacy).
    if files is not None and files.generation and files.identity == identity:
        con.execute(f"CREATE TABLE next_changes AS {_next_changes_sql(files, plan)}")
        count = con.execute("SELECT count(*) FROM next_changes").fetchone()
        limit = max(CHANGES_FLOOR, CHANGES_SHARE * files.base_rows)
        if count is not None and count[0] <= limit:
            members = _members_after(con, files)
            metadata |= {_KIND: _CHANGES, _GENERATION: files.generation,
                         _MEMBERS: str(members)}  # fmt: skip
            target = out or changes_path(state)
            write_parquet(con, _CHANGES_FILE_SQL, target, metadata=metadata)
            return _CHANGES
    metadata |= {_KIND: _BASE, _GENERATION: _generation(plan, acked, identity)}
    write_parquet(con, _NEXT_SQL, out or state, metadata=metadata)
    return _BASE


def _generation(
    plan: Path, acked: Collection[int], identity: StateIdentity | None
) -> str:
    """A base's generation: the same commit gives the same one, another commit not.

    A plan lives in its run's own folder, so no two runs share one.
    """
    who = [identity.state_key, str(identity.list_id)] if identity else []
    parts = [str(plan.resolve()), ",".join(map(str, sorted(acked))), *who]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _members_after(con: duckdb.DuckDBPyConnection, files: StateFiles) -> int:
    """The state's rows once ``next_changes`` replaces its changes."""
    row = con.execute(f"""
        SELECT {files.base_rows} - count(*) FILTER (in_base)
            + count(*) FILTER (NOT removed) FROM next_changes
    """).fetchone()  # noqa: S608 -- an integer
    return int(row[0]) if row else 0


def plan_metadata(files: StateFiles | None) -> dict[str, str]:
    """What a plan made against a state records of it: its base's generation."""
    if files is None or files.generation is None:
        return {}
    return {_GENERATION: files.generation}


def _next_changes_sql(files: StateFiles, plan: Path) -> str:
    """``next_changes``: the changes the state has once ``applied`` is applied.

    The current changes no applied row touches, in their order, then every
    applied row (a subscribe replaces the base's row, an unsubscribe hides it),
    in the plan's order. A removal of an email the base does not hold stays a
    row too (``in_base`` false, not counted), so that an email once changed
    keeps a row until the next base: changes only grow while their base stays.
    Whether an applied email is in the base: as its current change says; else,
    when the plan was made against this very base, as the plan's ``in_state``
    says (the changes held no row of it then, so it was the base's); else by
    reading the base's emails.
    """
    if parquet_key_values(plan).get(_GENERATION) == files.generation:
        known = "a.in_state"
    else:
        base = f"read_parquet({quote_literal(str(files.base))})"
        known = f"a.email IN (SELECT email FROM {base})"  # noqa: S608 -- a quoted path
    return f"""
        SELECT email, user_id, field_hash, removed, in_base FROM (
            SELECT 0 AS part, c.position, c.email, c.user_id, c.field_hash,
                c.removed, c.in_base
            FROM changes c
            WHERE NOT EXISTS (SELECT 1 FROM applied a WHERE a.email = c.email)
            UNION ALL
            SELECT 1, a.position, a.email,
                CASE WHEN a.action = 'subscribe' THEN a.user_id END,
                CASE WHEN a.action = 'subscribe' THEN a.field_hash END,
                a.action = 'unsubscribe', coalesce(c.in_base, {known})
            FROM applied a LEFT JOIN changes c ON c.email = a.email)
        ORDER BY part, position
    """  # noqa: S608 -- a quoted path


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
_CHANGES_FILE_SQL = (
    "SELECT email, user_id, field_hash, removed, in_base FROM next_changes"
)


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
        SELECT p.batch, p.action, p.email, p.user_id, p.field_hash, p.in_state,
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
