"""Explaining one profile: each condition's result, for rules and ``--where``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.roles import Role
from audiencesync.errors import AccessDeniedError, NotFoundError
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.explain import Step
from audiencesync.segments.rules import parse_rules, parse_where
from audiencesync.settings import Settings, load_settings

CUSTOMERS = """customer_id,country,lifetime_value
C1,FR,1500
C2,FR,200
C3,,3000
"""
NUMBERED = """id,country
7,FR
8,DE
"""
PURCHASES = """purchase_id,customer_id
1,C1
"""
RULES = {
    "all": [
        {"field": "country", "op": "=", "value": "FR"},
        {
            "any": [
                {"field": "lifetime_value", "op": ">", "value": 1000},
                {"not": {"exists": {"table": "purchases"}}},
            ]
        },
    ]
}


def _settings(
    tmp_path: Path, customers: str = CUSTOMERS, key: str = "customer_id"
) -> Settings:
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(customers, encoding="utf-8")
    import_profiles(settings, source, key=key)
    purchases = tmp_path / "purchases.csv"
    purchases.write_text(PURCHASES, encoding="utf-8")
    import_profiles(settings, purchases, table="purchases", key="customer_id")
    return settings


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace as the administrator, with the rules segment and a where one."""
    with open_workspace(_settings(tmp_path)) as opened:
        opened.segments.create("Rules", parse_rules(RULES))
        opened.segments.create(
            "Where",
            parse_where("country = 'FR' AND lifetime_value > 1000 OR country IS NULL"),
        )
        yield opened


def _results(step: Step) -> dict[str, bool | None]:
    found = {step.path: step.result}
    for item in step.items:
        found.update(_results(item))
    return found


def test_rules_show_every_condition_and_group(workspace: Workspace) -> None:
    """C1: each leaf and each group has its own result; C1 is a member."""
    explained = workspace.segments.explain("Rules", "C1")
    assert explained.member is True
    assert explained.key_column == "customer_id"
    assert _results(explained.root) == {
        "rules": True,
        "rules › all[0]": True,  # noqa: RUF001
        "rules › all[1]": True,  # noqa: RUF001
        "rules › all[1] › any[0]": True,  # noqa: RUF001
        "rules › all[1] › any[1]": False,  # noqa: RUF001
        "rules › all[1] › any[1] › not": True,  # noqa: RUF001
    }


def test_a_failing_leaf_explains_why_a_profile_is_out(workspace: Workspace) -> None:
    """C2 is French but spends little and bought nothing: the any group is true."""
    explained = workspace.segments.explain("Rules", "C2")
    results = _results(explained.root)
    assert results["rules › all[1] › any[0]"] is False  # noqa: RUF001
    assert results["rules › all[1] › any[1]"] is True  # noqa: RUF001
    assert explained.member is True


def test_a_missing_value_does_not_hold(workspace: Workspace) -> None:
    """C3 has no country: the comparison does not hold, and the profile is out."""
    explained = workspace.segments.explain("Rules", "C3")
    results = _results(explained.root)
    assert results["rules › all[0]"] is not True  # noqa: RUF001
    assert explained.member is False


def test_a_where_condition_shows_its_top_level_terms(workspace: Workspace) -> None:
    """An OR of two terms: the whole and each term, with null where it is unknown."""
    explained = workspace.segments.explain("Where", "C3")
    assert explained.root.kind == "or"
    assert explained.root.result is True
    assert [(item.text, item.result) for item in explained.root.items] == [
        ("country = 'FR' AND lifetime_value > 1000", None),
        ("country IS NULL", True),
    ]
    assert explained.member is True


def test_a_single_where_condition_is_shown_whole(workspace: Workspace) -> None:
    """No AND/OR at the top: one step, the condition itself."""
    workspace.segments.create("French", parse_where("country = 'FR'"))
    explained = workspace.segments.explain("French", "C2")
    assert (explained.root.kind, explained.root.result, explained.root.items) == (
        "where",
        True,
        [],
    )


def test_an_unknown_key_is_not_found_and_not_repeated(workspace: Workspace) -> None:
    """The key may be an email address: the message never contains it."""
    with pytest.raises(NotFoundError) as raised:
        workspace.segments.explain("Rules", "ana@example.com")
    assert "ana" not in str(raised.value)
    assert raised.value.field == "key"


@pytest.mark.parametrize("key", ["", "x" * 2000, "C1\x00", "C1'; DROP TABLE x; --"])
def test_odd_keys_are_simply_not_found(workspace: Workspace, key: str) -> None:
    """Empty, huge, NUL or SQL-looking keys match no profile."""
    with pytest.raises(NotFoundError):
        workspace.segments.explain("Rules", key)


def test_an_integer_key_is_matched_by_value(tmp_path: Path) -> None:
    """With a numeric key, "7" finds profile 7 and "seven" finds none."""
    with open_workspace(_settings(tmp_path, NUMBERED, key="id")) as opened:
        opened.segments.create("French", parse_where("country = 'FR'"))
        assert opened.segments.explain("French", "7").member is True
        assert opened.segments.explain("French", "8").member is False
        with pytest.raises(NotFoundError):
            opened.segments.explain("French", "seven")


def test_a_viewer_may_not_explain(tmp_path: Path) -> None:
    """An explanation shows profile data: viewers are refused."""
    settings = _settings(tmp_path)
    with open_workspace(settings) as admin:
        admin.segments.create("French", parse_where("country = 'FR'"))
        admin.users.add("vera", role=Role.VIEWER, password="correct horse 1")
    as_viewer = settings.model_copy(update={"user": "vera"})
    with open_workspace(as_viewer) as viewer, pytest.raises(AccessDeniedError):
        viewer.segments.explain("French", "C1")
