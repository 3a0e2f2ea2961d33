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
