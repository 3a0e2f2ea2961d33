"""The bulk fast path of lists/subscribe gives the same answers as the general path.

``bulk._subscribe_plain_emails`` handles email projects whose rows are exactly
``{"email": str}`` with whole-batch operations; every case here is run through it
and through the row-by-row path (the fast path switched off), and the answers,
the users (with their order and attributes) and the memberships must be equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from audiencesync.emulator import bulk, persistence
from audiencesync.emulator.config import ProjectSpec, ProjectType
from audiencesync.emulator.emails import all_valid_emails, is_valid_email
from audiencesync.emulator.store import Project, Store

Rows = Sequence[Mapping[str, Any]]
INVALID = [
    "user @example.com",
    "bad@@example",
    "not-an-email",
    " a@example.com",
    "a@example.com ",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@b.-c.com",
    "a@example.c",
    "a@example.c0m",
    "a@.example.com",
    "a@example..com",
    "a" * 65 + "@example.com",
    "a@" + "b" * 250 + ".com",
    "",
    "@example.com",
    "a@",
    "a\n@example.com",
    "\u00fc@example.com",
]
VALID = [
    "a@example.com",
    "A.B-C+tag@Sub-1.Example.ORG",
    "a-.b@example.com",
    "a.-b@example.com",
    "o'brien!#$%&*/=?^_`{|}~@x.io",
    "a" * 64 + "@example.com",
    "a@" + "b" * 248 + ".com",
    "a@b--c.example.co",
]


def _store(kind: ProjectType = ProjectType.EMAIL) -> tuple[Store, Project]:
    store = Store((ProjectSpec(1, kind),))
    return store, store.projects[1]


def _run(
    rows_per_call: Sequence[Rows], *, fast: bool, forgotten: tuple[str, ...] = ()
) -> Any:
    """Every call's answer and the final state, through one path or the other."""
    store, project = _store()
    project.forgotten.emails.update(forgotten)
    first = store.create_list(project, "a", description=None, wall=0.0, mono=0.0)
    second = store.create_list(project, "b", description=None, wall=0.0, mono=0.0)
    answers = []
    for n, rows in enumerate(rows_per_call):
        lst = first if n % 2 == 0 else second
        if fast:
            outcome = bulk.subscribe(project, lst, rows, existing_only=False, now=n)
        else:
            outcome = _general(project, lst, rows, now=n)
        assert isinstance(outcome, bulk.Outcome)
        answers.append(outcome.body())
    users = [
        (email, u.email, u.user_id, u.fields, u.created, u.updated)
        for email, u in project.by_email.items()
    ]
    members = [[u.email for u in lst.members] for lst in (first, second)]
    return answers, users, members


def _general(project: Project, lst: Any, rows: Rows, *, now: float) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "_subscribe_plain_emails", lambda *_: None)
        return bulk.subscribe(project, lst, rows, existing_only=False, now=now)


def _rows(*emails: str) -> list[dict[str, Any]]:
    return [{"email": email} for email in emails]


CASES = {
    "all new": [_rows(*(f"user{n}@example.com" for n in range(50)))],
    "case and duplicates": [
        _rows("a@example.com", "A@Example.com", "b@example.com", "a@EXAMPLE.COM")
    ],
    "existing and new, two lists": [
        _rows("a@example.com", "b@example.com"),
        _rows("c@example.com", "B@example.com", "a@example.com"),
        _rows("b@example.com", "d@example.com", "a@example.com"),
    ],
    "invalid mixed in": [_rows(*VALID[:3], *INVALID, *VALID[3:], "bad@@example")],
    "only invalid": [_rows("bad@@example", "not-an-email")],
    "valid edge cases": [_rows(*VALID)],
    "long addresses": [_rows("x" * 60 + "@example.com", "a@example.com")],
    "non-ascii": [_rows("\u00c9mile@example.com", "a@example.com")],
    "not only emails": [
        [
            *_rows("a@example.com"),
            {"email": "b@example.com", "dataFields": {"tier": "gold"}},
            {"email": 5},
            {"userId": "u1"},
            {},
        ]
    ],
}


@pytest.mark.parametrize("calls", CASES.values(), ids=CASES.keys())
def test_fast_path_matches_general_path(calls: Sequence[Rows]) -> None:
    """Same answers, same users in the same order, same memberships."""
    assert _run(calls, fast=True) == _run(calls, fast=False)


def test_forgotten_emails_match_general_path() -> None:
    """A batch naming a forgotten email answers as the general path does."""
    calls = [_rows("gone@example.com", "a@example.com", "GONE@example.com")]
    forgotten = ("gone@example.com",)
    fast = _run(calls, fast=True, forgotten=forgotten)
    assert fast == _run(calls, fast=False, forgotten=forgotten)
    assert fast[0][0]["failedUpdates"]["forgottenEmails"] == ["gone@example.com"] * 2


@pytest.mark.parametrize(
    ("kind", "rows", "taken"),
    [
        (ProjectType.EMAIL, _rows("a@example.com", "B@example.com"), True),
        (ProjectType.EMAIL, _rows("a@example.com", "bad@@example"), True),
        (ProjectType.EMAIL, [{"email": "a@example.com", "preferUserId": True}], False),
        (ProjectType.EMAIL, [{"email": None}], False),
        (ProjectType.EMAIL, [{"userId": "u1"}], False),
        (ProjectType.EMAIL, [], False),
        (ProjectType.HYBRID, _rows("a@example.com"), False),
        (ProjectType.USER_ID, _rows("a@example.com"), False),
    ],
)
def test_fast_path_is_taken_only_for_plain_email_rows(
    kind: ProjectType, rows: Rows, taken: bool
) -> None:
    """Only email projects with ``{"email": str}`` rows use it."""
    store, project = _store(kind)
    lst = store.create_list(project, "a", description=None, wall=0.0, mono=0.0)
    outcome = bulk._subscribe_plain_emails(project, lst, rows, 0.0)
    assert (outcome is not None) == taken


def test_new_users_have_no_fields_until_written() -> None:
    """A user created by the fast path shows an empty, writable ``fields``."""
    store, project = _store()
    lst = store.create_list(project, "a", description=None, wall=0.0, mono=0.0)
    bulk.subscribe(project, lst, _rows("a@example.com"), existing_only=False, now=1.0)
    user = project.by_email["a@example.com"]
    assert user.fields == {}
    user.fields["tier"] = "gold"
    data = project.profile(user)["dataFields"]
    assert isinstance(data, dict)
    assert data["tier"] == "gold"


@pytest.mark.parametrize("email", VALID + INVALID)
def test_batch_validation_agrees_with_single(email: str) -> None:
    """One regex over a newline-joined batch decides as the per-address check."""
    lowered = email.lower()
    if "\n" in lowered:
        return  # the fast path never joins an address that holds a newline
    batch = ["ok@example.com", lowered, "also.ok@example.com"]
    assert all_valid_emails(batch, "\n".join(batch)) == is_valid_email(lowered)
    assert (lowered.lower() in [v.lower() for v in VALID]) == is_valid_email(lowered)


def test_fast_path_users_survive_a_state_file(tmp_path: Path) -> None:
    """Users without fields are saved and loaded like any other."""
    store, project = _store()
    lst = store.create_list(project, "a", description=None, wall=0.0, mono=0.0)
    rows = _rows("b@example.com", "a@example.com")
    bulk.subscribe(project, lst, rows, existing_only=False, now=2.0)
    persistence.save(store, tmp_path / "state.json")
    restored, again = _store()
    persistence.load(restored, tmp_path / "state.json")
    members = [(u.email, u.fields, u.created) for u in again.lists[lst.id].members]
    assert members == [("b@example.com", {}, 2.0), ("a@example.com", {}, 2.0)]
