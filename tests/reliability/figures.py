"""The reliability summary: five figures every reliability test reports, totalled.

A pytest plugin (registered in ``tests/conftest.py``). Tests ask for the
``reliability_figures`` fixture and record what they measured::

    reliability_figures.record(lost=0, wrong_lists=0)
    reliability_figures.note("attempts per batch (max)", 3)

At the end of the run the terminal summary prints one line per figure of the
reliability plan (``lost``, ``synced_without_ack``, ``leaks``, ``tracebacks``,
``wrong_lists``) with its total over every check that reported it, how many
checks did, and which tests they were, then the tests' own notes. The lines are
printed whatever subset of the suite ran; a figure no test reported says so.

A figure is a report, not a check: the test still asserts what it measured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import pytest

FIGURES = ("lost", "synced_without_ack", "leaks", "tracebacks", "wrong_lists")
_KEY = pytest.StashKey["Ledger"]()


@dataclass
class Ledger:
    """Every figure recorded in this pytest session, by figure and by test."""

    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    checks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    tests: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    notes: list[tuple[str, str, str]] = field(default_factory=list)


_FIGURE, _NOTE = "reliability figure", "reliability note"


class Figures:
    """What one test records: kept on its report, so it crosses pytest-xdist."""

    def __init__(self, properties: list[tuple[str, object]]) -> None:
        self._properties = properties  # the test item's user_properties

    def record(self, **counts: int) -> None:
        """Add ``counts`` (figure=count) to the totals; one check per figure."""
        for name, count in counts.items():
            if name not in FIGURES:
                msg = f"unknown reliability figure {name!r}; use one of {FIGURES}"
                raise ValueError(msg)
            self._properties.append((_FIGURE, (name, int(count))))

    def note(self, what: str, value: object) -> None:
        """A test's own figure (attempts per batch, runs stuck, ...), shown as is."""
        self._properties.append((_NOTE, (what, str(value))))


_LEDGERS: list[Ledger] = []  # the running session's, last (pytester nests sessions)


def pytest_configure(config: pytest.Config) -> None:
    """Give the session its empty ledger."""
    config.stash[_KEY] = Ledger()
    _LEDGERS.append(config.stash[_KEY])


def pytest_unconfigure(config: pytest.Config) -> None:
    """Forget the session's ledger."""
    if config.stash.get(_KEY, None) in _LEDGERS:
        _LEDGERS.remove(config.stash[_KEY])


@pytest.fixture
def reliability_figures(request: pytest.FixtureRequest) -> Figures:
    """Record this test's reliability figures for the end-of-run summary."""
    assert isinstance(request.node, pytest.Item)
    return Figures(request.node.user_properties)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Total a test's figures once, from its teardown report (here or from a worker)."""
    if report.when == "teardown" and _LEDGERS:
        tally(_LEDGERS[-1], report.nodeid, report.user_properties)


def tally(ledger: Ledger, test: str, properties: Iterable[tuple[str, object]]) -> None:
    """Add what ``test`` recorded (its user properties) to the ledger."""
    for key, value in properties:
        if key == _FIGURE:
            name, count = cast("tuple[str, int]", value)
            ledger.totals[name] += count
            ledger.checks[name] += 1
            if test not in ledger.tests[name]:
                ledger.tests[name].append(test)
        elif key == _NOTE:
            what, shown = cast("tuple[str, str]", value)
            ledger.notes.append((test, what, shown))


def summary_lines(ledger: Ledger) -> list[str]:
    """The summary table's lines (without the section header)."""
    lines = [f"{'figure':<20} {'total':>6} {'checks':>7}  tests"]
    for name in FIGURES:
        tests = _grouped(ledger.tests.get(name, []))
        who = ", ".join(tests) if tests else "(no test in this run reported it)"
        total, checks = ledger.totals[name], ledger.checks[name]
        lines.append(f"{name:<20} {total:>6} {checks:>7}  {who}")
    if ledger.notes:
        lines.append("")
        lines.extend(f"{test}: {what} = {value}" for test, what, value in ledger.notes)
    return lines


def _grouped(tests: list[str]) -> list[str]:
    """Test ids without their parameters, with how many cases each had."""
    counts: dict[str, int] = {}
    for test in tests:
        base = test.split("[", 1)[0]
        counts[base] = counts.get(base, 0) + 1
    return [base if n == 1 else f"{base} ({n} cases)" for base, n in counts.items()]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the reliability figures at the end of every run."""
    ledger = terminalreporter.config.stash.get(_KEY, None)
    if ledger is None:
        return
    terminalreporter.section("reliability figures (docs/reliability-tests.md)")
    for line in summary_lines(ledger):
        terminalreporter.write_line(line)
