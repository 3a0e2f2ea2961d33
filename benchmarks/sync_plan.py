"""Plan a 1,000,000-member binding, commit it, then plan a 1 % churn delta.

Members are generated once with DuckDB as an Arrow table (key, email, first
name, consent) and streamed to the planner in 100,000-row record batches, as the
segment engine streams them. Timed: the first plan (everything is new), the
commit of all its batches, and the delta plan after 10k members leave and 10k
join. The design gives the whole delta run (plan, send, commit) 1.5 s, so the
delta plan should take well under a second. Prints the figures, then one JSON
line.

    .venv/bin/python -m benchmarks.sync_plan [--count 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import PLAN_FILE, plan_binding
from audiencesync.sync.state import commit_state

DELTA_BUDGET_SECONDS = 1.0
MAPPING = ExportMapping(
    "email", fields={"firstName": "first_name"}, consent_column="marketing_consent"
)


def members(start: int, stop: int) -> pa.Table:
    """Members ``start`` to ``stop`` - 1: all valid, all consenting."""
    query = f"""
        SELECT i AS customer_id, 'user' || i || '@example.com' AS email,
            'name' || (i % 997) AS first_name, true AS marketing_consent
        FROM range({start}, {stop}) t(i)
    """  # noqa: S608 -- integers only
    table: pa.Table = duckdb.connect().sql(query).to_arrow_table()
    return table


def timed_plan(table: pa.Table, state: Path, out: Path) -> float:
    """Seconds to plan ``table`` against ``state``."""
    started = time.perf_counter()
    summary = plan_binding(
        table.to_batches(max_chunksize=100_000), mapping=MAPPING, state=state, out=out
    )
    elapsed = time.perf_counter() - started
    print(f"  {summary}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    count = parser.parse_args(argv).count
    churn = max(count // 100, 1)
    with tempfile.TemporaryDirectory() as folder:
        state, out = Path(folder) / "state.parquet", Path(folder) / "run"
        first = timed_plan(members(0, count), state, out)
        started = time.perf_counter()
        batches = count // 1000 + 1
        commit_state(state, out / PLAN_FILE, range(1, batches + 1))
        commit = time.perf_counter() - started
        delta = timed_plan(members(churn, count + churn), state, out)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "PASS" if delta <= DELTA_BUDGET_SECONDS else "FAIL"
    print(f"first plan of {count:,} members: {first:.3f} s")
    print(f"commit of all batches: {commit:.3f} s")
    print(f"delta plan ({churn:,} leave, {churn:,} join): {delta:.3f} s {verdict}")
    print(f"peak RSS: {rss_mb:.0f} MB")
    figures = {
        "first_plan_s": round(first, 3),
        "commit_s": round(commit, 3),
        "delta_plan_s": round(delta, 3),
        "peak_rss_mb": round(rss_mb),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
