"""The benchmark scripts still run (on a small scale; figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_sync_export_benchmark_runs() -> None:
    """``benchmarks.sync_export`` prints the baseline, both runs and their verdicts."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.sync_export", "--profiles", "20000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("raw pipe baseline") for line in lines)
    assert "fresh export vs raw pipe:" in done.stdout
    assert lines[-2].startswith("delta run:")
    figures = json.loads(lines[-1])
    assert figures["profiles"] == 20_000
    assert figures["delta_sent"] == 400
    assert {"raw_pipe_s", "fresh_export_s", "fresh_peak_rss_mb", "delta_s"} <= set(
        figures
    )


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
    """``benchmarks.startup`` times --version, --help and exports --help; verdicts."""
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
    assert set(figures) == {"--version", "--help", "exports --help"}
    assert set(figures["--help"]) == {"best_s", "median_s"}
