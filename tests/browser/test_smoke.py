"""Smoke test of the browser fixtures: Chromium opens what a real ``serve`` serves.

The interactive docs at ``/api/docs`` load Swagger UI from a CDN, which the tests
never reach; the OpenAPI document is served by ``serve`` itself, whole, offline.
"""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from audiencesync import __version__
from tests.browser.conftest import Shot

WRAPPED_TO_ONE_SCREEN = """
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
      max-height: calc(100vh - 16px); overflow: hidden }
"""


def test_chromium_shows_the_served_openapi_document(
    served: str, page: Page, shot: Shot
) -> None:
    """The document opens in Chromium as JSON: this version, with the API's routes."""
    response = page.goto(f"{served}/api/v1/openapi.json")
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    text = page.locator("body > pre")
    expect(text).to_contain_text('"title":"audiencesync"')
    # Chromium shows the document as one line of 160 kB. Wrapped to the page's width
    # it is 16,000 pixels tall (a full-page screenshot of it takes 20 s): show its
    # first screen only.
    page.add_style_tag(content=WRAPPED_TO_ONE_SCREEN)
    path = shot(page, "openapi-document")
    assert path.stat().st_size > 10_000  # a page of text, not a blank one
    document = json.loads(text.inner_text())
    assert document["info"]["title"] == "audiencesync"
    assert document["info"]["version"] == __version__
    assert {"/api/v1/me", "/api/v1/segments"} <= set(document["paths"])
