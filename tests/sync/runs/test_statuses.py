"""Run statuses: the displayed words, the stored codes, and the allowed moves."""

from __future__ import annotations

import itertools
from contextlib import AbstractContextManager, nullcontext

import pytest

from audiencesync.errors import ConflictError
from audiencesync.store.runs import RUN_STATUS_CODES
from audiencesync.sync.statuses import (
    TRANSITIONS,
    RunStatus,
    StatusTransitionError,
    transition,
)

S = RunStatus
ILLEGAL = pytest.raises(StatusTransitionError)
CASES = [
    (S.QUEUED, S.RUNNING, nullcontext()),
    (S.QUEUED, S.CANCELED, nullcontext()),
    (S.QUEUED, S.SUCCEEDED, ILLEGAL),
    (S.RUNNING, S.SUCCEEDED, nullcontext()),
    (S.RUNNING, S.SUCCEEDED_WITH_REJECTS, nullcontext()),
    (S.RUNNING, S.HELD, nullcontext()),
    (S.RUNNING, S.FAILED_RETRYING, nullcontext()),
    (S.RUNNING, S.FAILED_PERMANENT, nullcontext()),
    (S.RUNNING, S.CANCELED, nullcontext()),
    (S.RUNNING, S.INTERRUPTED, nullcontext()),
    (S.RUNNING, S.QUEUED, ILLEGAL),
    (S.RUNNING, S.RUNNING, ILLEGAL),
    (S.HELD, S.RUNNING, nullcontext()),
    (S.HELD, S.SUCCEEDED, nullcontext()),
    (S.HELD, S.DISCARDED, nullcontext()),
    (S.RUNNING, S.DRIFTED, nullcontext()),
    (S.RUNNING, S.DISCARDED, ILLEGAL),
    (S.DISCARDED, S.RUNNING, ILLEGAL),
    (S.INTERRUPTED, S.RUNNING, nullcontext()),
    (S.INTERRUPTED, S.SUCCEEDED, ILLEGAL),
    (S.FAILED_RETRYING, S.RUNNING, nullcontext()),
    (S.SUCCEEDED, S.RUNNING, ILLEGAL),
    (S.FAILED_PERMANENT, S.RUNNING, ILLEGAL),
    (S.CANCELED, S.RUNNING, ILLEGAL),
]


@pytest.mark.parametrize(
    ("current", "new", "expectation"),
    CASES,
    ids=[f"{current.code}->{new.code}" for current, new, _ in CASES],
)
def test_transitions(
    current: RunStatus, new: RunStatus, expectation: AbstractContextManager[object]
) -> None:
    """Each move is allowed or refused as the lifecycle says."""
    with expectation:
        assert transition(current, new) is new


@pytest.mark.parametrize(
    ("current", "new"), list(itertools.product(RunStatus, RunStatus))
)
def test_transition_follows_the_table(current: RunStatus, new: RunStatus) -> None:
    """transition() allows exactly the moves listed in TRANSITIONS."""
    allowed = new in TRANSITIONS[current]
    expectation = nullcontext() if allowed else ILLEGAL
    with expectation:
        transition(current, new)


def test_the_error_names_the_run_and_the_way_out() -> None:
    """An illegal move says which run, from what, to what, and what is possible."""
    with pytest.raises(ConflictError) as caught:
        transition(S.INTERRUPTED, S.SUCCEEDED, run_id=12)
    assert str(caught.value) == (
        "Run 12 that is Interrupted (resumable) cannot become Succeeded"
        " (it can become Canceled, Failed (permanent), Running)."
    )


def test_a_finished_run_can_become_nothing() -> None:
    """The message of a move from a terminal status says the run is over."""
    with pytest.raises(StatusTransitionError, match="nothing: it is over"):
        transition(S.CANCELED, S.RUNNING)


def test_the_statuses_are_exactly_the_issues() -> None:
    """The displayed words: the nine statuses of issue 5, then issue 11's two."""
    assert [status.value for status in RunStatus] == [
        "Queued",
        "Running",
        "Succeeded",
        "Succeeded with rejects",
        "Held",
        "Failed (retrying)",
        "Failed (permanent)",
        "Canceled",
        "Interrupted (resumable)",
        "Removals discarded",
        "Succeeded with drift",
    ]


def test_codes_round_trip_and_match_the_database() -> None:
    """Every status has a short code the schema's CHECK constraint accepts."""
    assert tuple(status.code for status in RunStatus) == RUN_STATUS_CODES
    assert all(RunStatus.from_code(status.code) is status for status in RunStatus)


def test_terminal_statuses() -> None:
    """Only the six endings are terminal."""
    terminal = {status for status in RunStatus if status.is_terminal}
    assert terminal == {
        S.SUCCEEDED,
        S.SUCCEEDED_WITH_REJECTS,
        S.DRIFTED,
        S.DISCARDED,
        S.FAILED_PERMANENT,
        S.CANCELED,
    }


def test_resumable_statuses() -> None:
    """Interrupted and Failed (retrying) runs continue their plan."""
    resumable = {status for status in RunStatus if status.is_resumable}
    assert resumable == {S.INTERRUPTED, S.FAILED_RETRYING}
