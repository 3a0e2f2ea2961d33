"""The benchmark scripts still run (on a small scale; figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_segment_evaluation_benchmark_runs() -> None:
    """``benchmarks.segments_evaluation`` prints its figures and a verdict."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.segments_evaluation", "--count", "20000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert "evaluate 5 segments:" in lines[-2]
    figures = json.loads(lines[-1])
    assert set(figures) == {"generate_s", "evaluate_s", "peak_rss_mb"}


def _run_benchmark(*args: str) -> list[str]:
    done = subprocess.run(  # noqa: S603 - our own benchmark scripts
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()


@pytest.mark.slow
def test_sync_export_benchmark_runs() -> None:
    """``benchmarks.sync_export`` prints every run, every budget and its JSON line."""
    lines = _run_benchmark("benchmarks.sync_export", "--profiles", "5000")
    budgets = [line for line in lines if line.startswith("budget ")]
    assert len(budgets) == 4
    assert all(line.endswith(("PASS", "FAIL")) for line in budgets)
    figures = json.loads(lines[-1])
    assert figures["profiles"] == 5000
    assert figures["fresh_members"] + figures["fresh_rejects"] == 5000
    assert {"pipe_s", "fresh_s", "fresh_ratio", "fresh_peak_rss_mb", "delta_s",
            "delta_sent", "noop_s", "version_s"} <= set(figures)  # fmt: skip
    assert set(figures["pass"]) == {"fresh_ratio", "delta", "noop", "version"}


@pytest.mark.slow
def test_sync_export_benchmark_runs_warm() -> None:
    """With ``--warm`` its runs go through the launcher of a running ``serve``."""
    lines = _run_benchmark("benchmarks.sync_export", "--profiles", "3000", "--warm")
    assert "started warm" in lines[0]
    figures = json.loads(lines[-1])
    assert figures["warm"] is True
    assert figures["fresh_members"] + figures["fresh_rejects"] == 3000
    assert figures["fresh_peak_rss_mb"] > 0  # the worker's, read while it ran
    assert set(figures["pass"]) == {"fresh_ratio", "delta", "noop", "version"}


@pytest.mark.slow
def test_sync_export_benchmark_with_latency_runs_fresh_only() -> None:
    """With ``--latency`` and ``--fresh-only`` it probes concurrency, then one run."""
    lines = _run_benchmark(
        "benchmarks.sync_export", "--profiles", "3000", "--latency", "0.01",
        "--fresh-only",
    )  # fmt: skip
    assert lines[1].startswith("emulator latency 0.01 s: 8 simultaneous calls took")
    figures = json.loads(lines[-1])
    assert figures["latency_s"] == 0.01
    assert {"latency_probe_s", "pipe_s", "fresh_s", "fresh_ratio"} <= set(figures)
    assert set(figures["pass"]) == {"fresh_ratio"}


@pytest.mark.slow
def test_large_export_benchmark_runs() -> None:
    """``benchmarks.large_export`` prints both exports, the plan and three budgets."""
    lines = _run_benchmark(
        "benchmarks.large_export", "--profiles", "4000", "--reference", "1000"
    )
    assert lines[-2].startswith("budget 5 segments evaluated and diffed:")
    figures = json.loads(lines[-1])
    assert (figures["profiles"], figures["reference"]) == (4000, 1000)
    assert {"fresh_s", "fresh_peak_rss_mb", "reference_s", "time_ratio",
            "plan_5_segments_s"} <= set(figures)  # fmt: skip
    assert set(figures["pass"]) == {"rss", "linear", "plan"}


@pytest.mark.slow
def test_segments_together_benchmark_runs() -> None:
    """``benchmarks.segments_together`` times both ways and checks their lists agree."""
    lines = _run_benchmark(
        "benchmarks.segments_together", "--profiles", "3000", "--tries", "1"
    )
    assert lines[-2].endswith("both ways filled the same lists")
    figures = json.loads(lines[-1])
    assert figures["profiles"] == 3000
    assert {"in_turn_s", "together_s", "ratio"} <= set(figures)


@pytest.mark.slow
def test_web_pages_benchmark_runs() -> None:
    """``benchmarks.web_pages`` times each page with its history; verdicts."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.web_pages", "--runs", "300",
         "--segments", "120", "--evaluations", "5", "--events", "500",
         "--repeat", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("export page, 300 runs: median ")
    assert lines[1].startswith("segments page, 120 segments x 5 counts, last page:")
    assert lines[2].startswith("audit log, 500 events, last page:")
    assert all(line.endswith(("PASS", "FAIL")) for line in lines[:3])
    figures = json.loads(lines[-1])
    assert set(figures) == {"export page", "segments page", "audit log"}
    assert set(figures["export page"]) == {"median_ms", "p95_ms"}


@pytest.mark.slow
def test_startup_benchmark_runs() -> None:
    """``benchmarks.startup`` times --version, --help and three help pages; verdicts."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.startup", "--repeat", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("audiencesync --version: best ")
    assert lines[1].startswith("audiencesync --help: best ")
    assert lines[0].endswith(("PASS", "FAIL"))
    assert lines[2].endswith("(no budget)")
    figures = json.loads(lines[-1])
    assert set(figures) == {
        "--version", "--help", "exports --help", "exports run --help",
        "connections add --help",
    }  # fmt: skip
    assert set(figures["--help"]) == {"best_s", "median_s"}


@pytest.mark.slow
def test_adaptive_throttle_benchmark_times_the_engine() -> None:
    """``benchmarks.adaptive_throttle --engine`` exports everyone; prints a verdict."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.adaptive_throttle",
            "--engine",
            "--subscribers",
            "3000",
            "--limit",
            "30",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "sender            `audiencesync exports run`"
    assert "subscribers       3,000 (accepted 3,000)" in lines
    assert lines[-1].startswith(("PASS", "FAIL"))


@pytest.mark.slow
@pytest.mark.usefixtures("spark_installed")
def test_engines_benchmark_runs(postgres_server: sqlalchemy.Engine) -> None:
    """``benchmarks.engines`` times the same segments on three engines; they agree."""
    url = postgres_server.url.render_as_string(hide_password=False)
    lines = _run_benchmark(
        "benchmarks.engines", "--profiles", "5000", "--postgres-url", url
    )
    assert not any("@" in line for line in lines)  # no email is ever printed
    assert any(line.startswith("members on every engine: ") for line in lines)
    figures = json.loads(lines[-1])
    assert figures["profiles"] == 5000
    assert figures["members"]["Everyone"] == 5000
    assert list(figures["engines"]) == ["duckdb", "postgres", "spark"]
    assert {"startup_s", "count_rule_s", "evaluate_everyone_s", "plan_everyone_s",
            "plan_in_engine_everyone_s", "peak_rss_mb"} <= set(
                figures["engines"]["spark"])  # fmt: skip
