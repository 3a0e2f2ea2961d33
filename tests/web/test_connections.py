"""``/api/v1/connections``: every route and role, consent, key checks, ETags.

Every answer of every test is searched for the canary key (and any 8-character
piece of it): a key goes into the API, never out of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Barrier
from typing import Any

import httpx2
import pytest

from audiencesync.auth.directory import resolve_actor
from audiencesync.auth.roles import Role
from audiencesync.connections import verifier
from audiencesync.emulator import (
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    KeyType,
    ProjectSpec,
    ProjectType,
    serve_in_thread,
)
from audiencesync.iterable import Region
from tests.canary import CANARY_API_KEY, CANARY_PIECES
from tests.web.conftest import Api
from tests.web.exports_setup import add_profiles_and_segments

pytestmark = pytest.mark.socket

NAME = "Iterable US"
ONE = "/api/v1/connections/Iterable%20US"
READ_ONLY_KEY = "webReadOnly7Tg3Yh8Uj1Ik5Ol9Pq2Wz"
EU_KEY = "webEuProject4Hd8Kf2Jq5Wm9Xn4Bv7Z"
OTHER_KEYS = (READ_ONLY_KEY, EU_KEY)


def leaks(text: str) -> list[str]:
    """Pieces of the canary key (or of the other test keys) found in ``text``."""
    pieces = set(CANARY_PIECES)
    for key in OTHER_KEYS:
        pieces.update(key[start : start + 8] for start in range(len(key) - 7))
    return sorted(piece for piece in pieces if piece in text)


@pytest.fixture(autouse=True)
def _no_key_in_any_answer(api: Api) -> Iterator[None]:
    """Every response of the test (body and headers) is free of key material."""
    answers: list[str] = []

    def remember(response: httpx2.Response) -> None:
        response.read()
        answers.append(f"{response.headers}\n{response.text}")

    api.client.event_hooks["response"].append(remember)
    yield
    api.client.event_hooks["response"].remove(remember)
    assert answers
    for text in answers:
        assert leaks(text) == []


def new_connection(
    emulator_url: str, name: str = NAME, **fields: object
) -> dict[str, object]:
    """The body of ``POST /connections`` for the canary key at the emulator."""
    return {
        "name": name,
        "api_key": CANARY_API_KEY,
        "base_url": emulator_url,
        "i_agree": True,
        **fields,
    }


@pytest.fixture
def connected(api: Api, emulator_url: str) -> Api:
    """The API once the administrator added "Iterable US" (not shared)."""
    answer = api.client.post(
        "/api/v1/connections",
        json=new_connection(emulator_url),
        headers=api.auth("admin"),
    )
    assert answer.status_code == 201, answer.text
    return api


# --- every route and role ---------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One route: how to call it, and what the administrator's call changes."""

    method: str
    path: str
    body: Callable[[str], Any] | None = None
    admin_status: int = 200
    event: str | None = None
    prepare: tuple[tuple[str, str], ...] = field(default=())


CASES = {
    "list": Case("GET", "/api/v1/connections"),
    "add": Case(
        "POST",
        "/api/v1/connections",
        lambda url: new_connection(url, "Iterable second"),
        201,
        "connection.add",
    ),
    "check": Case(
        "POST",
        "/api/v1/connections/check",
        lambda url: {"api_key": CANARY_API_KEY, "base_url": url},
    ),
    "show": Case("GET", ONE),
    "edit": Case(
        "PATCH",
        ONE,
        lambda _: {"allow_contributors": True},
        event="connection.set_sharing",
    ),
    "remove": Case("DELETE", ONE, admin_status=204, event="connection.remove"),
    "share": Case("POST", f"{ONE}/share", event="connection.set_sharing"),
    "unshare": Case(
        "POST",
        f"{ONE}/unshare",
        event="connection.set_sharing",
        prepare=(("POST", f"{ONE}/share"),),
    ),
    "authorize": Case("POST", f"{ONE}/authorize"),
    "key": Case(
        "PUT",
        f"{ONE}/key",
        lambda _: {"api_key": CANARY_API_KEY},
        event="connection.set_key",
    ),
    "rotate-keys": Case(
        "POST", "/api/v1/connections/rotate-keys", event="connection.rotate_keys"
    ),
}
READS = {"list", "show"}
STATUS = {"admin": None, "contributor": 403, "viewer": 403, None: 401}


def call(api: Api, case: Case, role: str | None, url: str) -> httpx2.Response:
    """Make the case's request as ``role``."""
    body = case.body(url) if case.body is not None else None
    return api.client.request(case.method, case.path, json=body, headers=api.auth(role))


@pytest.mark.parametrize("role", list(STATUS), ids=str)
@pytest.mark.parametrize("route", list(CASES))
def test_every_route_answers_each_role(
    connected: Api, emulator_url: str, route: str, role: str | None
) -> None:
    """Administrators may do everything; others only read; no token is 401."""
    case = CASES[route]
    for method, path in case.prepare:
        assert connected.client.request(
            method, path, headers=connected.auth("admin")
        ).is_success
    before = connected.audit_actions()
    answer = call(connected, case, role, emulator_url)
    expected = STATUS[role] or case.admin_status
    if route in READS and role is not None:
        expected = 200
    assert answer.status_code == expected, answer.text
    events = connected.audit_actions()[len(before) :]
    if answer.is_success and case.event is not None:
        assert [(actor, action) for actor, action, _ in events] == [(role, case.event)]
    else:
        assert events == []


def test_authorize_makes_the_caller_the_export_user(connected: Api) -> None:
    """Another administrator authorises: the event names them, and so do settings."""
    admin = resolve_actor(connected.context.database, "admin")
    with connected.context.workspace(admin) as workspace:
        workspace.users.add("boss", role=Role.ADMIN, password="correct horse 2")
        token, _ = workspace.users.create_token("boss")
    boss = {"Authorization": f"Bearer {token}"}
    answer = connected.client.post(f"{ONE}/authorize", headers=boss)
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["export_user"] == "boss"
    assert connected.audit_actions()[-1] == ("boss", "connection.authorize", NAME)


# --- what each reader sees ----------------------------------------------------


@pytest.mark.parametrize("role", ["contributor", "viewer"])
def test_others_see_name_and_type_only(connected: Api, role: str) -> None:
    """No settings, no key tail, no ETag for contributors and viewers."""
    shown = connected.client.get(ONE, headers=connected.auth(role))
    listed = connected.client.get("/api/v1/connections", headers=connected.auth(role))
    assert shown.json() == {"name": NAME, "type": "iterable"}
    assert "ETag" not in shown.headers
    assert listed.json()["items"] == [{"name": NAME, "type": "iterable"}]


def test_administrators_see_the_settings_and_the_key_tail(connected: Api) -> None:
    """Settings with the key's last four characters, and the ETag."""
    answer = connected.client.get(ONE, headers=connected.auth("admin"))
    settings = answer.json()["settings"]
    assert settings["key"] == f"…{CANARY_API_KEY[-4:]}"
    assert (settings["export_user"], settings["status"]) == ("admin", "ok")
    assert answer.headers["ETag"] == f'"{settings["revision"]}"'


def test_add_answers_201_with_location_and_etag(api: Api, emulator_url: str) -> None:
    """The new connection's URL and revision come with it."""
    answer = api.client.post(
        "/api/v1/connections",
        json=new_connection(emulator_url, "Iterable EU/test"),
        headers=api.auth("admin"),
    )
    assert answer.status_code == 201
    assert answer.headers["Location"] == "/api/v1/connections/Iterable%20EU%2Ftest"
    assert answer.headers["ETag"] == '"1"'
    assert (
        api.client.get(answer.headers["Location"], headers=api.auth("viewer")).json()[
            "name"
        ]
        == "Iterable EU/test"
    )


# --- consent and key checks ---------------------------------------------------


@pytest.mark.parametrize("agreement", [{"i_agree": False}, {}], ids=["false", "absent"])
def test_add_without_agreement_is_refused_naming_the_field(
    api: Api, emulator_url: str, agreement: dict[str, bool]
) -> None:
    """422 consent_required about i_agree, with the statement; nothing is saved."""
    before = api.audit_actions()
    body = new_connection(emulator_url)
    del body["i_agree"]
    answer = api.client.post(
        "/api/v1/connections", json=body | agreement, headers=api.auth("admin")
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("consent_required", "i_agree")
    assert error["details"]["statement"].startswith("Data privacy and compliance")
    assert api.audit_actions() == before


@pytest.mark.parametrize("agreement", [1, "true", "yes"], ids=str)
def test_agreement_must_be_the_json_true(
    api: Api, emulator_url: str, agreement: object
) -> None:
    """1, "true" or "yes" is no "I agree": 422 on i_agree, nothing saved."""
    before = api.audit_actions()
    body = new_connection(emulator_url) | {"i_agree": agreement}

    answer = api.client.post(
        "/api/v1/connections", json=body, headers=api.auth("admin")
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["field"] == "i_agree"
    assert api.audit_actions() == before


@pytest.fixture
def picky_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An emulator with a read-only key and an EU project; regions point at it."""
    emulator = Emulator(
        EmulatorConfig(
            projects=(
                ProjectSpec(),
                ProjectSpec(
                    project_id=2, project_type=ProjectType.USER_ID, region="eu"
                ),
            ),
            keys=(
                ApiKeySpec(CANARY_API_KEY),
                ApiKeySpec(READ_ONLY_KEY, key_type=KeyType.READ_ONLY),
                ApiKeySpec(EU_KEY, project_id=2),
            ),
            rate_limits_enabled=False,
        )
    )
    with serve_in_thread(emulator) as url:
        urls = {Region.US: url, Region.EU: f"{url}/eu"}
        monkeypatch.setattr(verifier, "REGION_URLS", urls)
        yield url


REFUSALS = {
    "unknown": ({"api_key": "webUnknownKey0Zx9Cv8Bn7Mm6Ll5Kk"}, "key_rejected"),
    "read-only": ({"api_key": READ_ONLY_KEY}, "key_read_only"),
    "wrong-region": ({"api_key": EU_KEY, "region": "us"}, "key_wrong_region"),
    "malformed": ({"api_key": "short"}, "key_malformed"),
}


@pytest.mark.parametrize("path", ["/api/v1/connections", "/api/v1/connections/check"])
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_key_is_422_with_its_code(
    api: Api, picky_emulator: str, path: str, refusal: str
) -> None:
    """Wrong, read-only, other-region or malformed keys: a clear 422; nothing saved."""
    before = api.audit_actions()
    given, code = REFUSALS[refusal]
    body = {"name": "X", "i_agree": True} if path.endswith("connections") else {}
    if "region" not in given:
        body["base_url"] = picky_emulator
    answer = api.client.post(path, json=body | given, headers=api.auth("admin"))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert "Nothing was saved" in error["message"]
    if refusal == "wrong-region":
        assert error["details"] == {"region": "eu", "field": "region"}
    assert api.audit_actions() == before


def test_check_accepts_a_good_key_and_saves_nothing(
    api: Api, emulator_url: str
) -> None:
    """200 with the key's last four characters only; no connection, no event."""
    before = api.audit_actions()
    answer = api.client.post(
        "/api/v1/connections/check",
        json={"api_key": CANARY_API_KEY, "base_url": emulator_url},
        headers=api.auth("admin"),
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "valid": True,
        "key": f"…{CANARY_API_KEY[-4:]}",
        "region": None,
        "base_url": emulator_url,
    }
    listed = api.client.get("/api/v1/connections", headers=api.auth("admin"))
    assert listed.json()["total"] == 0
    assert api.audit_actions() == before


@pytest.mark.parametrize(
    "body",
    [
        {"api_key": "x" * 201},
        {"api_key": CANARY_API_KEY, "base_url": "http://\x00host"},
        {"api_key": CANARY_API_KEY, "region": "mars"},
        {"api_key": CANARY_API_KEY, "surprise": 1},
        {"api_key": 12},
    ],
    ids=["long-key", "nul-url", "region", "extra", "not-text"],
)
def test_odd_check_bodies_are_422(api: Api, body: dict[str, object]) -> None:
    """Invalid input is a 422 naming the field, never a 500, never the key."""
    answer = api.client.post(
        "/api/v1/connections/check", json=body, headers=api.auth("admin")
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"


def test_a_duplicate_name_is_409(connected: Api, emulator_url: str) -> None:
    """Names are unique regardless of case."""
    answer = connected.client.post(
        "/api/v1/connections",
        json=new_connection(emulator_url, NAME.upper()),
        headers=connected.auth("admin"),
    )
    assert answer.status_code == 409


def test_an_unknown_connection_is_404(api: Api) -> None:
    """A name nobody gave is 404 in the error shape."""
    answer = api.client.get("/api/v1/connections/nope", headers=api.auth("viewer"))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "connection_not_found"


def test_a_connection_in_use_cannot_be_removed(connected: Api) -> None:
    """409 naming the export that uses it."""
    add_profiles_and_segments(connected)
    made = connected.client.post(
        "/api/v1/exports",
        json={
            "name": "Weekly",
            "connection": NAME,
            "email_field": "email",
            "segments": ["France"],
        },
        headers=connected.auth("admin"),
    )
    assert made.status_code == 201, made.text
    answer = connected.client.delete(ONE, headers=connected.auth("admin"))
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert (error["code"], error["details"]["exports"]) == (
        "connection_in_use",
        ["Weekly"],
    )


# --- optimistic edits -----------------------------------------------------------


def etag(api: Api) -> str:
    """The connection's current ETag, as an administrator reads it."""
    return api.client.get(ONE, headers=api.auth("admin")).headers["ETag"]


EDITS = {
    "patch": ("PATCH", ONE, {"allow_contributors": True}),
    "delete": ("DELETE", ONE, None),
    "share": ("POST", f"{ONE}/share", None),
    "unshare": ("POST", f"{ONE}/unshare", None),
    "key": ("PUT", f"{ONE}/key", {"api_key": CANARY_API_KEY}),
    "authorize": ("POST", f"{ONE}/authorize", None),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_stale_if_match_is_412_and_changes_nothing(connected: Api, edit: str) -> None:
    """An edit made with an old ETag is refused: 412 stale_edit, no event."""
    old = etag(connected)
    assert connected.client.post(
        f"{ONE}/share", headers=connected.auth("admin")
    ).is_success
    before = connected.audit_actions()
    method, path, body = EDITS[edit]
    headers = connected.auth("admin") | {"If-Match": old}
    answer = connected.client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 412, answer.text
    assert answer.json()["error"]["code"] == "stale_edit"
    assert connected.audit_actions() == before


@pytest.mark.parametrize("edit", ["patch", "share", "key"])
def test_a_current_if_match_applies_and_moves_the_etag(
    connected: Api, edit: str
) -> None:
    """With the current ETag the edit applies, and answers the next ETag."""
    current = etag(connected)
    method, path, body = EDITS[edit]
    headers = connected.auth("admin") | {"If-Match": current}
    answer = connected.client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == f'"{int(current.strip(chr(34))) + 1}"'
    assert etag(connected) == answer.headers["ETag"]


def test_a_malformed_if_match_is_412(connected: Api) -> None:
    """If-Match must be an ETag this API gave."""
    headers = connected.auth("admin") | {"If-Match": "yesterday"}
    answer = connected.client.post(f"{ONE}/share", headers=headers)
    assert answer.status_code == 412


def test_two_concurrent_edits_with_one_etag_one_wins(connected: Api) -> None:
    """Two PATCHes sent together with the same If-Match: one 200, one 412."""
    headers = connected.auth("admin") | {"If-Match": etag(connected)}
    start = Barrier(2)

    def patch(shared: bool) -> int:
        start.wait()
        body = {"allow_contributors": shared}
        return connected.client.patch(ONE, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(patch, [True, True]))
    assert statuses == [200, 412]
    assert [a for _, a, _ in connected.audit_actions()].count(
        "connection.set_sharing"
    ) == 1


def test_patch_with_nothing_to_change_is_422(connected: Api) -> None:
    """An empty PATCH names what may change."""
    answer = connected.client.patch(ONE, json={}, headers=connected.auth("admin"))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "nothing_to_change"


def test_patch_moves_the_connection_after_checking_the_key_there(
    connected: Api,
) -> None:
    """A new address the stored key does not work at is refused; nothing moves."""
    answer = connected.client.patch(
        ONE, json={"base_url": "http://127.0.0.1:9"}, headers=connected.auth("admin")
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "key_not_checked"
    shown = connected.client.get(ONE, headers=connected.auth("admin")).json()
    assert shown["settings"]["base_url"] != "http://127.0.0.1:9"
