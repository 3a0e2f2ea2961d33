"""Generate 10 million profiles, then evaluate five realistic segments over them.

Generation runs as the CLI would (``audiencesync profiles generate`` in a child
process, timed from outside, its own peak RSS read back). Evaluation runs here in
a fresh process through the segment service: each segment streams its members
(key and email, the columns an export reads) as Arrow record batches from the
embedded DuckDB engine. Prints the generation time, the time of each segment's
evaluation, the total, and this process's peak RSS, with PASS/FAIL against the
budget (all five in <= 10 s, peak RSS <= 1.5 GB).

    .venv/bin/python -m benchmarks.segments_evaluation [--count 10000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from audiencesync.app.home import initialize
from audiencesync.app.workspace import open_workspace
from audiencesync.segments.rules import parse_rules, parse_where
from audiencesync.settings import load_settings

BUDGET_SECONDS = 10.0
BUDGET_RSS_MB = 1536.0

SEGMENTS: dict[str, object] = {
    "France, lifetime value over 1000": "country = 'FR' AND lifetime_value > 1000",
    "Gold and platinum, consenting": {
        "all": [
            {"field": "loyalty_tier", "op": "in", "value": ["gold", "platinum"]},
            {"field": "marketing_consent", "op": "=", "value": True},
        ]
    },
    "Lapsed buyers": {
        "all": [
            {"field": "last_purchase_date", "op": "is_not_empty"},
            {
                "not": {
                    "field": "last_purchase_date",
                    "op": "in_last_days",
                    "value": 180,
                }
            },
        ]
    },
    "New this quarter, not from the US": {
        "all": [
            {"field": "signup_date", "op": "in_last_days", "value": 90},
            {"field": "country", "op": "not_in", "value": ["US", "CA"]},
        ]
    },
    "Recent big spenders": {
        "exists": {
            "table": "purchases",
            "all": [
                {"field": "purchased_at", "op": "in_last_days", "value": 30},
                {"field": "amount", "op": ">", "value": 100},
            ],
        }
    },
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(home: Path, count: int) -> tuple[float, float]:
    """Run the CLI generator; return (seconds, its peak RSS in MB)."""
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [
            sys.executable,
            "-m",
            "audiencesync",
            "profiles",
            "generate",
            "--count",
            str(count),
            "--home",
            str(home),
            "--json",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, child_rss


def _evaluate(home: Path) -> dict[str, tuple[int, float]]:
    settings = load_settings(home=home)
    results: dict[str, tuple[int, float]] = {}
    with open_workspace(settings) as workspace:
        service = workspace.segments
        started = time.perf_counter()
        for name, spec in SEGMENTS.items():
            definition = (
                parse_where(spec) if isinstance(spec, str) else parse_rules(spec)
            )
            service.create(name, definition)
        saved = time.perf_counter() - started
        print(f"save 5 segments (validate and count each): {saved:.2f} s")
        for name in SEGMENTS:
            started = time.perf_counter()
            evaluation = service.evaluate(name, columns=["email"])
            for _batch in evaluation:
                pass
            results[name] = (evaluation.member_count, time.perf_counter() - started)
    return results


def main() -> None:
    """Generate, evaluate, print the figures and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="as-bench-") as folder:
        home = Path(folder) / "home"
        initialize(load_settings(home=home))
        gen_seconds, gen_rss = _generate(home, args.count)
        print(
            f"generate {args.count:,} profiles: {gen_seconds:.1f} s"
            f" (generator peak RSS {gen_rss:,.0f} MB)"
        )
        results = _evaluate(home)
    total = sum(seconds for _members, seconds in results.values())
    for name, (members, seconds) in results.items():
        print(f"  {name:<36} {members:>11,} members  {seconds:6.2f} s")
    rss = _peak_rss_mb()
    verdict = "PASS" if total <= BUDGET_SECONDS and rss <= BUDGET_RSS_MB else "FAIL"
    print(
        f"evaluate 5 segments: {total:.2f} s (budget {BUDGET_SECONDS:.0f} s),"
        f" peak RSS {rss:,.0f} MB (budget {BUDGET_RSS_MB:,.0f} MB) → {verdict}"
    )
    print(
        json.dumps(
            {
                "generate_s": round(gen_seconds, 2),
                "evaluate_s": round(total, 2),
                "peak_rss_mb": round(rss),
            }
        )
    )


if __name__ == "__main__":
    main()
