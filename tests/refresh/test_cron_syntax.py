"""Cron syntax beyond the documented one is refused by both schedule commands."""

from __future__ import annotations

import pytest

from tests.refresh.conftest import Place
from tests.refresh.test_cli import invoke

pytestmark = pytest.mark.socket

EXPORT = (
    "exports", "add", "--name", "Monthly", "--connection", "Iterable",
    "--email-field", "email", "--segment", "France", "--schedule",
)  # fmt: skip


@pytest.mark.parametrize(
    ("cron", "problem"),
    [("0 6 L * *", "uses 'L' (the last day)"), ("0 6 * * 7", "uses 7 for Sunday")],
    ids=["L", "seven"],
)
@pytest.mark.parametrize(
    "command",
    [("schedule", "set"), EXPORT],
    ids=["schedule set", "exports add --schedule"],
)
def test_an_extension_is_refused_in_one_line_with_exit_2(
    place: Place, command: tuple[str, ...], cron: str, problem: str
) -> None:
    """The refresh schedule and an export's schedule refuse it the same way."""
    result = invoke(place, *command, cron)
    assert (result.exit_code, result.stdout) == (2, "")
    (line,) = result.stderr.strip().splitlines()
    assert problem in line
