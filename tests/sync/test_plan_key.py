"""The key of a plan's inputs: any input that changes gives another key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan_memo import plan_key


def _inputs(state: Path) -> dict[str, Any]:
    return {
        "members": "a" * 64,
        "mapping": ExportMapping(email_field="email", fields={"plan": "plan"}),
        "state": state,
        "state_key": "k1",
        "list_id": 7,
        "forgotten": ["x@example.com"],
        "policy": BatchPolicy(),
    }


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A sync state file."""
    path = tmp_path / "state.parquet"
    path.write_bytes(b"state one")
    return path


def test_equal_inputs_give_equal_keys(state: Path) -> None:
    """The key is a pure function of the inputs."""
    assert plan_key(**_inputs(state)) == plan_key(**_inputs(state))


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("members", "b" * 64),
        ("mapping", ExportMapping(email_field="email")),
        ("mapping", ExportMapping(email_field="email", fields={"plan": "tier"})),
        ("mapping", ExportMapping(email_field="email", fields={"plan": "plan"},
                                  mode="add-only")),
        ("mapping", ExportMapping(email_field="email", fields={"plan": "plan"},
                                  consent_column="opt_in")),
        ("state_key", "k2"),
        ("list_id", 8),
        ("forgotten", []),
        ("policy", BatchPolicy(max_items=500)),
        ("state", None),
    ],
)  # fmt: skip
def test_each_input_is_part_of_the_key(state: Path, name: str, other: object) -> None:
    """Changing one input, whatever it is, changes the key."""
    changed = _inputs(state) | {name: other}

    assert plan_key(**changed) != plan_key(**_inputs(state))


def test_a_rewritten_state_file_changes_the_key(state: Path, tmp_path: Path) -> None:
    """A commit replaces the state file: the key sees the new file."""
    before = plan_key(**_inputs(state))
    new = tmp_path / "new.parquet"
    new.write_bytes(b"state two, longer")

    new.replace(state)

    assert plan_key(**_inputs(state)) != before


def test_the_order_of_forgotten_people_does_not_matter(state: Path) -> None:
    """Forgotten people are a set."""
    one = _inputs(state) | {"forgotten": ["a@x.io", "b@x.io"]}
    two = _inputs(state) | {"forgotten": ["b@x.io", "a@x.io"]}

    assert plan_key(**one) == plan_key(**two)
