"""The reliability summary table adds up what tests record and names them."""

from __future__ import annotations

import pytest

from tests.reliability.figures import FIGURES, Figures, Ledger, summary_lines, tally


def test_every_figure_is_printed_even_when_no_test_reported_it() -> None:
    """An empty ledger still prints the five figures at 0, saying nobody reported."""
    lines = summary_lines(Ledger())
    for name in FIGURES:
        [line] = [line for line in lines if line.startswith(name)]
        assert line.split()[1:3] == ["0", "0"]
        assert "no test in this run reported it" in line


def test_recorded_counts_add_up_per_figure_with_their_tests() -> None:
    """Two tests' counts are summed; the line names both tests and the checks."""
    ledger = Ledger()
    one: list[tuple[str, object]] = []
    two: list[tuple[str, object]] = []
    Figures(one).record(lost=0, leaks=2)
    Figures(two).record(lost=1)
    Figures(two).note("attempts per batch (max)", 3)
    tally(ledger, "t::one", one)
    tally(ledger, "t::two", two)
    lines = summary_lines(ledger)
    [lost] = [line for line in lines if line.startswith("lost")]
    assert lost.split()[1:3] == ["1", "2"]
    assert "t::one, t::two" in lost
    assert "t::two: attempts per batch (max) = 3" in lines


def test_an_unknown_figure_is_refused() -> None:
    """A typo in a figure's name fails the test that records it."""
    with pytest.raises(ValueError, match="unknown reliability figure"):
        Figures([]).record(lsot=0)


def test_the_fixture_records_into_this_session(reliability_figures: Figures) -> None:
    """The fixture is wired through tests/conftest.py."""
    reliability_figures.note("the plugin is wired", "yes")
