"""docs/users.md shows the role matrix the code enforces, row for row."""

from __future__ import annotations

import re
from pathlib import Path

from audiencesync.auth.roles import ALLOWED, Role

USERS_DOC = Path(__file__).parents[2] / "docs" / "users.md"
ROW = re.compile(r"^\| (?P<action>[^|]+?) \| (yes|no) \| (yes|no) \| (yes|no) \|$")


def test_the_roles_table_matches_the_code() -> None:
    """Every action of ALLOWED appears once, with yes/no per role, and nothing else."""
    text = USERS_DOC.read_text(encoding="utf-8")
    documented = {
        match["action"]: tuple(match.group(2, 3, 4))
        for match in map(ROW.match, text.splitlines())
        if match
    }
    enforced = {
        action.value: tuple("yes" if role in roles else "no" for role in Role)
        for action, roles in ALLOWED.items()
    }
    assert documented == enforced
