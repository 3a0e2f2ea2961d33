"""Request bodies over 1 MiB are refused with 413 before they are read."""

from __future__ import annotations

from collections.abc import Iterator

from audiencesync.web.body_limit import MAX_BODY_BYTES
from tests.web.conftest import Api

BIG = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'


def test_a_body_over_the_limit_is_refused_with_413(api: Api) -> None:
    """A declared length over 1 MiB: 413 too_large in the one error shape."""
    answer = api.client.post(
        "/api/v1/segments",
        content=BIG,
        headers={**api.auth("admin"), "Content-Type": "application/json"},
    )

    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "too_large"
    assert answer.json()["error"]["details"] == {"limit_bytes": MAX_BODY_BYTES}


def test_a_streamed_body_over_the_limit_is_refused_with_413(api: Api) -> None:
    """Without Content-Length (chunked), the count stops it at the limit."""

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(BIG), 65536):
            yield BIG[start : start + 65536]

    answer = api.client.post(
        "/api/v1/segments",
        content=chunks(),
        headers={**api.auth("admin"), "Content-Type": "application/json"},
    )

    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "too_large"


def test_a_body_under_the_limit_goes_through(api: Api) -> None:
    """An ordinary body reaches its route (here: 422 for the missing fields)."""
    answer = api.client.post(
        "/api/v1/segments", json={"name": "x" * 1000}, headers=api.auth("admin")
    )

    assert answer.status_code == 422, answer.text
