"""Plan one binding's run: who to subscribe, who to unsubscribe, in numbered batches.

A pure function of its inputs (the members, the sync state and the previous
run's retry and final lists), computed in DuckDB by set operations:

- subscribe = valid members not in the state (added), members whose userId or
  dataFields changed (updated), and the previous run's retryable rejects that
  are still members (retried); never an email Iterable reported as forgotten;
- unsubscribe = state rows that are no longer valid members (mirror mode only);
- unchanged = members in the state with the same userId and field hash; in a
  full resync (``full``) they are sent again, as updated, so a list that lost
  members in Iterable behind our back gets them back.

Each subscribe row is counted once, first match wins: forgotten (not sent),
retried, added, updated. Files written to ``out``:

``plan.parquet``     batch, action, email, user_id, data_fields, field_hash,
                     body (the row's JSON), profile_key (text, NULL for
                     leavers), in_state (the email was in the sync state the
                     plan was made against: a subscribe row that updates
                     rather than adds), in batch order: subscribe rows by
                     profile key, then unsubscribe rows by email
                     (byte-identical for equal inputs);
``invalid.parquet``  profile_key, email (as the profile holds it: the user's own
                     report data, never logged), reason; ordered by profile key.

Input Parquet files ``retry`` and ``final`` have an ``email`` column; a missing
``state`` file (or none given) is an empty state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.batches import count_batches, number_batches, row_budget
from audiencesync.sync.files import read_relation, write_parquet
from audiencesync.sync.identity import NOT_CONSENTING, REJECT_REASONS, load_members
from audiencesync.sync.scratch import PLAN_MEMORY_LIMIT, open_scratch
from audiencesync.sync.spark_plan import DiffRequest, SparkMembers, read_emails
from audiencesync.sync.state import StateFiles, load_state, plan_metadata

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb
    import pyarrow as pa

    from audiencesync.profiles.duckdb_engine import DuckDBRelation
    from audiencesync.sync.mapping import ExportMapping

PLAN_FILE = "plan.parquet"
INVALID_FILE = "invalid.parquet"
MERGED_STATE_FILE = "state.parquet"  # the state Spark reads, when it has changes
_NO_EMAILS = "SELECT CAST(NULL AS VARCHAR) AS email WHERE false"


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """The counts of one binding's plan."""

    members: int
    to_add: int
    to_update: int
    to_remove: int
    unchanged: int
    retried: int
    forgotten: int
    not_consenting: int
    invalid_in_source: Mapping[str, int]
    subscribe_batches: int
    unsubscribe_batches: int
    in_state: int

    @property
    def to_subscribe(self) -> int:
        """Rows of subscribe batches: added, updated and retried."""
        return self.to_add + self.to_update + self.retried

    @property
    def invalid(self) -> int:
        """Profiles rejected before sending, all reasons."""
        return sum(self.invalid_in_source.values())


def plan_binding(
    members: Iterable[pa.RecordBatch] | DuckDBRelation | SparkMembers,
    *,
    mapping: ExportMapping,
    state: Path | None,
    out: Path,
    retry: Path | None = None,
    final: Path | None = None,
    policy: BatchPolicy = BatchPolicy(),  # noqa: B008 -- frozen value object
    full: bool = False,
    rows: bool = True,
) -> PlanSummary:
    """Diff ``members`` with the sync ``state`` and write the plan to ``out``.

    ``full``: a full resync, every valid member is subscribed again. Members on
    Spark (:class:`~audiencesync.sync.spark_plan.SparkMembers`) are classified
    and diffed there; only the rows to send or report come here. ``rows``
    false: the plan is only counted (a dry run): the same summary, and the
    invalid rows are written, but the plan's own rows are neither sorted nor
    written (no ``plan.parquet``).
    """
    with open_scratch(out, memory_limit=PLAN_MEMORY_LIMIT, first_press=True) as con:
        files = load_state(con, state)
        if isinstance(members, SparkMembers):
            request = DiffRequest(
                mapping, _one_file(con, state, files, out),
                retry=read_emails(retry), final=read_emails(final),
                max_row_bytes=row_budget(policy), full=full,
            )  # fmt: skip
            reasons = members.classify_and_diff(con, request)
            write_parquet(con, _FETCHED_INVALID_SQL, out / INVALID_FILE)
        else:
            reasons = _classify_here(
                con, members, mapping, policy=policy, retry=retry, final=final
            )
            write_parquet(con, _INVALID_SQL, out / INVALID_FILE)
            con.execute(_diff_sql(mirror=mapping.is_mirror, full=full))
        counted = None if rows else count_batches(con, policy)
        if counted is not None:
            kinds, batches = counted
            return _summary(reasons, kinds, batches, in_state=_in_state(con))
        number_batches(con, policy)
        # The members are in ``ordered`` now: free their memory before writing.
        if isinstance(members, SparkMembers):
            con.execute("DROP TABLE diff")
        else:
            con.execute("DROP VIEW diff")
            con.execute("DROP TABLE profiles")
        if rows:
            write_parquet(con, "SELECT * FROM plan", out / PLAN_FILE,
                          metadata=plan_metadata(files))  # fmt: skip
        return _summarise(con, reasons)


def _one_file(
    con: duckdb.DuckDBPyConnection,
    state: Path | None,
    files: StateFiles | None,
    out: Path,
) -> Path | None:
    """The sync state as one file for Spark: the base, or base and changes merged."""
    if files is None or files.changes is None:
        return state
    merged = out / MERGED_STATE_FILE
    query = "SELECT email, user_id, field_hash FROM state ORDER BY position"
    write_parquet(con, query, merged)
    return merged


def _classify_here(
    con: duckdb.DuckDBPyConnection,
    members: Iterable[pa.RecordBatch] | DuckDBRelation,
    mapping: ExportMapping,
    *,
    policy: BatchPolicy,
    retry: Path | None,
    final: Path | None,
) -> dict[str, int]:
    """Load and classify the members here, in DuckDB; the members per reason."""
    load_members(con, members, mapping, max_row_bytes=row_budget(policy))
    _load_emails(con, "retry", retry)
    _load_emails(con, "final", final)
    return _counts(con, _REASONS_SQL)


def _load_emails(con: duckdb.DuckDBPyConnection, table: str, path: Path | None) -> None:
    source = read_relation(path, empty=_NO_EMAILS)
    con.execute(f"""
        CREATE TABLE {table} AS SELECT DISTINCT lower(trim(CAST(email AS VARCHAR)))
        AS email FROM ({source}) WHERE email IS NOT NULL
    """)  # noqa: S608 -- a fixed table name and a quoted path


def _diff_sql(*, mirror: bool, full: bool = False) -> str:
    """``diff``: every member or state row that is not unchanged, with its kind.

    A view: :func:`~audiencesync.sync.batches.number_batches` runs it once, into
    the sorted ``ordered`` table.
    """
    leaver = "'removed'" if mirror else "'kept'"
    same = "'updated'" if full else "'unchanged'"
    return f"""
        CREATE VIEW diff AS SELECT * FROM (SELECT
            coalesce(m.email, s.email) AS email, m.profile_key,
            CASE WHEN m.email IS NULL THEN s.user_id ELSE m.user_id END AS user_id,
            m.data_fields, m.field_hash, s.email IS NOT NULL AS in_state,
            coalesce(m.row_bytes, strlen(s.email)
                + coalesce(strlen(to_json(s.user_id)), 0) + 40) AS row_bytes,
            CASE
                WHEN m.email IS NULL THEN {leaver}
                WHEN f.email IS NOT NULL THEN 'forgotten'
                WHEN r.email IS NOT NULL THEN 'retried'
                WHEN s.email IS NULL THEN 'added'
                WHEN s.field_hash IS DISTINCT FROM m.field_hash
                  OR s.user_id IS DISTINCT FROM m.user_id THEN 'updated'
                ELSE {same} END AS kind
            FROM (SELECT * FROM profiles WHERE reason IS NULL) m
            FULL JOIN state s ON s.email = m.email
            LEFT JOIN retry r ON r.email = m.email
            LEFT JOIN final f ON f.email = m.email
        ) WHERE kind NOT IN ('unchanged', 'kept')
    """  # noqa: S608 -- constant kinds only


_INVALID_SQL = f"""
    SELECT profile_key, coalesce(raw_email, email) AS email, reason FROM profiles
    WHERE reason IN ({", ".join(f"'{r}'" for r in REJECT_REASONS)})
    ORDER BY profile_key, reason
"""  # noqa: S608 -- constant reason names


_FETCHED_INVALID_SQL = (
    "SELECT profile_key, email, reason FROM invalid ORDER BY profile_key, reason"
)


def _counts(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, int]:
    return {str(key): int(count) for key, count in con.execute(query).fetchall()}


_REASONS_SQL = "SELECT coalesce(reason, 'valid'), count(*) FROM profiles GROUP BY ALL"


def _summarise(con: duckdb.DuckDBPyConnection, reasons: dict[str, int]) -> PlanSummary:
    kinds = _counts(
        con, "SELECT CAST(kind AS VARCHAR), count(*) FROM ordered GROUP BY ALL"
    )
    batches = _counts(
        con, "SELECT action, count(DISTINCT batch) FROM plan GROUP BY ALL"
    )
    return _summary(reasons, kinds, batches, in_state=_in_state(con))


def _in_state(con: duckdb.DuckDBPyConnection) -> int:
    return _counts(con, "SELECT 'rows', count(*) FROM state")["rows"]


def _summary(
    reasons: Mapping[str, int],
    kinds: Mapping[str, int],
    batches: Mapping[str, int],
    *,
    in_state: int,
) -> PlanSummary:
    sent = ("forgotten", "retried", "added", "updated")
    return PlanSummary(
        members=sum(reasons.values()),
        to_add=kinds.get("added", 0),
        to_update=kinds.get("updated", 0),
        to_remove=kinds.get("removed", 0),
        unchanged=reasons.get("valid", 0) - sum(kinds.get(kind, 0) for kind in sent),
        retried=kinds.get("retried", 0),
        forgotten=kinds.get("forgotten", 0),
        not_consenting=reasons.get(NOT_CONSENTING, 0),
        invalid_in_source={r: reasons[r] for r in REJECT_REASONS if r in reasons},
        subscribe_batches=batches.get("subscribe", 0),
        unsubscribe_batches=batches.get("unsubscribe", 0),
        in_state=in_state,
    )
