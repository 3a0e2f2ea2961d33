"""A fresh export of 10 million messy profiles as a child process: time, memory, scale.

One invocation, two data folders, each with its own emulator (rate limits off):

1. ``--reference`` (1,000,000) and ``--profiles`` (10,000,000) messy profiles are
   generated (DuckDB, vectorised; not timed as a figure) and imported, each with
   one segment of everyone and an export to the emulator. The large folder also
   gets five segments of realistic rules in a second export.
2. ``audiencesync exports run "Benchmark export" --json`` runs in a child process
   on each folder: wall time, the child's peak RSS (VmHWM polled from /proc).
   Each list must hold as many members as the file has distinct valid emails
   (counted here with DuckDB) and the run must report every other row as a reject.
   Budgets: peak RSS at most 1.5 GB; time linear in the profile count (the large
   run's time per profile at most 1.2x the reference's).
3. ``audiencesync exports run "Many segments" --dry-run --json`` on the large
   folder: five segments evaluated and diffed against their sync state (the plan,
   nothing sent), wall time. Budget: at most 10 s.

Prints the figures, then one JSON line. No email and no key is ever printed.

    .venv/bin/python -m benchmarks.large_export [--profiles 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from audiencesync.segments import Definition, parse_rules
from audiencesync.segments.where import parse_where
from audiencesync.settings import load_settings
from benchmarks.export_harness import (
    EXPORT,
    MANY_EXPORT,
    CommandFigures,
    check,
    count_distinct_valid,
    emulator,
    list_size,
    run_command,
    set_up,
    verdict,
    write_messy_profiles,
)

RSS_BUDGET_MB = 1536.0
LINEAR_BUDGET = 1.2  # time per profile, large over reference
PLAN_BUDGET_SECONDS = 10.0


def five_segments() -> dict[str, Definition]:
    """Five segments over the customers table, rules and SQL alike."""
    lapsed = {"field": "last_purchase_date", "op": "in_last_days", "value": 180}
    return {
        "France, lifetime value over 1000": parse_where(
            "country = 'FR' AND lifetime_value > 1000"
        ),
        "Gold and platinum, consenting": parse_rules(
            {
                "all": [
                    {
                        "field": "loyalty_tier",
                        "op": "in",
                        "value": ["gold", "platinum"],
                    },
                    {"field": "marketing_consent", "op": "=", "value": True},
                ]
            }
        ),
        "Lapsed buyers": parse_rules(
            {
                "all": [
                    {"field": "last_purchase_date", "op": "is_not_empty"},
                    {"not": lapsed},
                ]
            }
        ),
        "New this quarter, not from the US": parse_rules(
            {
                "all": [
                    {"field": "signup_date", "op": "in_last_days", "value": 90},
                    {"field": "country", "op": "not_in", "value": ["US", "CA"]},
                ]
            }
        ),
        "Big spenders in cities": parse_where(
            "lifetime_value > 500 AND city IS NOT NULL"
        ),
    }


def _prepare(
    folder: Path, count: int, *, base_url: str, key: str, many: bool
) -> tuple[Path, int]:
    """A data folder with ``count`` messy profiles; (home, distinct valid emails)."""
    started = time.perf_counter()
    source = folder / f"profiles-{count}.parquet"
    write_messy_profiles(source, count=count)
    home = folder / f"home-{count}"
    segments = five_segments() if many else None
    set_up(
        load_settings(home=home), source, base_url=base_url, key=key, segments=segments
    )
    valid = count_distinct_valid(source)
    source.unlink()
    print(
        f"set-up (not timed): {count:,} messy profiles generated and imported,"
        f" {valid:,} distinct valid emails: {time.perf_counter() - started:.1f} s"
    )
    return home, valid


def _fresh(
    home: Path, count: int, valid: int, *, base_url: str, key: str
) -> CommandFigures:
    run = run_command(["exports", "run", EXPORT, "--json"], home=home)
    view = run.as_json()
    check(view["status"].startswith("Succeeded"), "the run succeeded")
    [part] = view["segments"]
    size = list_size(base_url, key, int(part["list_id"]))
    rejects = sum(part["rejected"].values()) + part["invalid_in_source"]
    check(size == valid, "the list holds every distinct valid email")
    check(rejects == count - valid, "the run reported every row it did not send")
    print(
        f"fresh export of {count:,}: {run.wall_s:.2f} s wall,"
        f" {count / run.wall_s:,.0f} profiles/s; peak RSS {run.peak_rss_mb:,.0f} MB"
        f" (VmHWM of the child; ru_maxrss {run.ru_maxrss_mb:,.0f} MB);"
        f" list {size:,} members, {rejects:,} rejects reported"
    )
    return run


def main(argv: list[str] | None = None) -> int:
    """Run the large benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000_000)
    parser.add_argument("--reference", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    key = secrets.token_hex(16)  # throwaway; never printed
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        " before the run"
    )
    runs = {}
    with tempfile.TemporaryDirectory(prefix="as-bench-") as name:
        for count in (args.reference, args.profiles):
            with emulator(key) as emulated:
                base_url = emulated.base_url
                many = count == args.profiles
                home, valid = _prepare(
                    Path(name), count, base_url=base_url, key=key, many=many
                )
                runs[count] = _fresh(home, count, valid, base_url=base_url, key=key)
                if many:
                    plan = run_command(
                        ["exports", "run", MANY_EXPORT, "--dry-run", "--json"],
                        home=home,
                    )
    planned = [s["planned_add"] for s in plan.as_json()["segments"]]
    large, small = runs[args.profiles], runs[args.reference]
    ratio = large.wall_s / small.wall_s
    linear = ratio / (args.profiles / args.reference)
    passes = {
        "rss": large.peak_rss_mb <= RSS_BUDGET_MB,
        "linear": linear <= LINEAR_BUDGET,
        "plan": plan.wall_s <= PLAN_BUDGET_SECONDS,
    }
    print(
        f"5 segments evaluated and diffed (`exports run --dry-run`, {sum(planned):,}"
        f" members planned): {plan.wall_s:.2f} s wall, peak RSS"
        f" {plan.peak_rss_mb:,.0f} MB"
    )
    print(
        f"budget peak RSS of the {args.profiles:,} export: {large.peak_rss_mb:,.0f} MB"
        f" (≤ {RSS_BUDGET_MB:,.0f} MB) → {verdict(passes['rss'])}"
    )
    print(
        f"budget linear time: {args.profiles:,} / {args.reference:,} = {ratio:.2f}x"
        f" the time for {args.profiles / args.reference:.0f}x the profiles"
        f" ({linear:.2f} per profile, ≤ {LINEAR_BUDGET}) → {verdict(passes['linear'])}"
    )
    print(
        f"budget 5 segments evaluated and diffed: {plan.wall_s:.2f} s"
        f" (≤ {PLAN_BUDGET_SECONDS:.0f} s) → {verdict(passes['plan'])}"
    )
    figures: dict[str, Any] = {
        "profiles": args.profiles,
        "reference": args.reference,
        "fresh_s": round(large.wall_s, 3),
        "fresh_peak_rss_mb": round(large.peak_rss_mb),
        "reference_s": round(small.wall_s, 3),
        "reference_peak_rss_mb": round(small.peak_rss_mb),
        "time_ratio": round(ratio, 3),
        "plan_5_segments_s": round(plan.wall_s, 3),
        "pass": passes,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
