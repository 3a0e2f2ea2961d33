"""The CLI's ``segments ... --json`` and the API answer the same JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiencesync.settings import Settings
from tests.web.conftest import Api
from tests.web.profile_data import FRANCE, create_france, load_profiles
from tests.web.shapes import cli_json


@pytest.fixture
def seg_api(api: Api, settings: Settings, tmp_path: Path) -> Api:
    """The API with profiles loaded and the segment France saved."""
    load_profiles(settings, tmp_path)
    create_france(api)
    return api


def test_list_is_the_pages_items(seg_api: Api, settings: Settings) -> None:
    """``segments list --json`` is the items of ``GET /segments``."""
    page = seg_api.client.get("/api/v1/segments", headers=seg_api.auth("admin")).json()
    assert cli_json(settings, "segments", "list") == page["items"]


def test_show_is_get_one(seg_api: Api, settings: Settings) -> None:
    """``segments show NAME --json`` is ``GET /segments/NAME``, history included."""
    one = seg_api.client.get(
        f"/api/v1/segments/{FRANCE}", headers=seg_api.auth("admin")
    )
    assert cli_json(settings, "segments", "show", FRANCE) == one.json()


def test_preview_is_get_preview(seg_api: Api, settings: Settings) -> None:
    """``segments preview NAME --json`` is ``GET /segments/NAME/preview``."""
    answer = seg_api.client.get(
        f"/api/v1/segments/{FRANCE}/preview?limit=1", headers=seg_api.auth("admin")
    )
    cli = cli_json(settings, "segments", "preview", FRANCE, "--limit", "1")
    assert cli == answer.json()


def test_create_and_edit_print_the_segment_view(
    seg_api: Api, settings: Settings
) -> None:
    """``segments create/edit --json`` print what POST and PATCH answer."""
    created = cli_json(
        settings, "segments", "create", "DE", "--where", "country = 'DE'"
    )
    edited = cli_json(settings, "segments", "edit", "DE", "--description", "Germans")
    one = seg_api.client.get(
        "/api/v1/segments/DE", headers=seg_api.auth("admin")
    ).json()
    assert created.keys() == edited.keys() == one.keys() - {"history"}
    assert edited == {key: one[key] for key in edited}
    patched = seg_api.client.patch(
        "/api/v1/segments/DE", json={"description": "x"}, headers=seg_api.auth("admin")
    ).json()
    assert patched.keys() == edited.keys()


def test_evaluate_matches_the_segment_count(seg_api: Api, settings: Settings) -> None:
    """``segments evaluate --json``: name, member count and error per segment."""
    assert cli_json(settings, "segments", "evaluate") == [
        {"name": FRANCE, "member_count": 2, "error": None}
    ]
