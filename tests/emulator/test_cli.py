"""`audiencesync emulator` flag parsing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.cli.emulator import build_config, describe, parse_key, parse_rate
from audiencesync.core.window import RateLimit
from audiencesync.emulator import DEFAULT_API_KEY, KeyType, ProjectType


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("lists/subscribe=30", ("lists/subscribe", RateLimit(30, 1.0))),
        ("lists/getUsers=5/60", ("lists/getUsers", RateLimit(5, 60.0))),
    ],
    ids=["per second", "per period"],
)
def test_rate_option_forms(option: str, expected: tuple[str, RateLimit]) -> None:
    """--rate takes N per second or N/SECONDS."""
    assert parse_rate(option) == expected


def test_key_option_takes_a_type() -> None:
    """--api-key KEY:read-only makes a read-only key."""
    assert parse_key("k" * 32 + ":read-only").key_type is KeyType.READ_ONLY


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "lists/subscribe=fast"], "expected ENDPOINT=N"),
        (["--rate", "lists/nope=3"], "unknown endpoint name"),
        (["--rate", "lists/subscribe=0"], "expected ENDPOINT=N"),
        (["--api-key", "abcd:root"], "expected KEY or KEY:TYPE"),
        (["--project-type", "phone"], "--project-type 'phone' is not valid"),
        (["--retry-after", "later"], "--retry-after 'later' is not valid"),
        (["--rate-limit-body", "xml"], "--rate-limit-body 'xml' is not valid"),
        (["--fault-rate", "2"], "fault_rate must be between 0 and 1"),
        (["--latency", "-1"], "latency must be zero or more"),
        (["--region", "eu"], "email-based projects do not exist in the EU"),
    ],
    ids=[
        "rate not a number",
        "rate unknown endpoint",
        "rate zero",
        "key type",
        "project type",
        "retry-after",
        "rate-limit body",
        "fault rate",
        "latency",
        "email project in eu",
    ],
)
def test_bad_flags_raise_config_error(args: list[str], message: str) -> None:
    """A bad flag value is one error line naming the problem and exit code 2."""
    result = CliRunner().invoke(app, ["emulator", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("Error: ")


def test_bad_flag_exits_2_with_one_line() -> None:
    """From the shell, a bad flag prints one line and exits 2."""
    done = subprocess.run(
        [sys.executable, "-m", "audiencesync", "emulator", "--rate", "x=y"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("Error: --rate")


def test_startup_line_shows_only_last_four_key_characters() -> None:
    """The start-up line names URL, project type, keys (last 4) and limits."""
    config = build_config(
        api_keys=[],
        project_type="hybrid",
        region="eu",
        rates=[],
        rate_limits=False,
        rate_limit_body="json",
        retry_after="none",
        fault_rate=0.0,
        drop_rate=0.0,
        latency=0.0,
        new_list_invalid_seconds=0.0,
        seed=0,
        state=None,
    )
    line = describe(config, host="127.0.0.1", port=9009)
    assert config.projects[0].project_type is ProjectType.HYBRID
    assert "http://127.0.0.1:9009" in line
    assert "hybrid" in line
    assert f"...{DEFAULT_API_KEY[-4:]}" in line
    assert DEFAULT_API_KEY not in line
    assert "rate limits off" in line
