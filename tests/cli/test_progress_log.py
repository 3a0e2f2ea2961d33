"""``serve``'s run log goes to stderr as it is when a line is written."""

from __future__ import annotations

import io
import logging

import pytest

from audiencesync.cli.schedule import show_progress_log
from audiencesync.sync.run_log import RUN_LOG


@pytest.fixture
def run_log() -> logging.Logger:
    """The run logger (the suite's conftest gives it back as it was)."""
    return logging.getLogger(RUN_LOG)


def test_a_replaced_stderr_gets_the_lines(
    run_log: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line written after stderr was swapped (the old one closed) goes to the new."""
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    show_progress_log()
    first.close()
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)

    run_log.info("run 1 ended")

    assert "run 1 ended" in second.getvalue()


def test_asking_twice_adds_one_handler(run_log: logging.Logger) -> None:
    """Calling it again (a second serve in one process) prints each line once."""
    before = list(run_log.handlers)  # pytest's own, while the logger propagates not
    show_progress_log()
    show_progress_log()
    added = [h for h in run_log.handlers if h not in before]
    assert len(added) == 1
