"""Administrator > Connections in the pages: the list by role, and Add connection."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.canary import CANARY_API_KEY
from tests.web.conftest import Api
from tests.web.test_pages import PASSWORD, _csrf, sign_in

ADMIN_PASSWORD = "correct horse 9"


def _as_admin(api: Api) -> TestClient:
    with api.workspace() as workspace:
        workspace.users.set_password("admin", ADMIN_PASSWORD)
    sign_in(api.client, "admin", ADMIN_PASSWORD)
    return api.client


def _save(client: TestClient, **fields: str) -> str:
    form = client.get("/connections/new")
    answer = client.post("/connections/new", data={"csrf": _csrf(form.text), **fields})
    return answer.text


def _names(api: Api) -> list[str]:
    with api.workspace() as workspace:
        return [info.name for info in workspace.connections.list_all()]


def test_the_form_shows_the_statement_and_i_agree(api: Api) -> None:
    """The data privacy statement and its box are on the form, before Save."""
    page = _as_admin(api).get("/connections/new").text

    assert "Data privacy and compliance" in page
    assert page.index('name="i_agree"') < page.index('id="save"')


def test_save_without_i_agree_is_refused_next_to_the_box(
    api: Api, emulator_url: str
) -> None:
    """422-like page: the consent error by the box; nothing saved, key not echoed."""
    page = _save(_as_admin(api), name="Iterable", api_key=CANARY_API_KEY,
                 base_url=emulator_url)  # fmt: skip

    assert 'id="i_agree-error"' in page
    assert "Tick “I agree” to save the connection." in page
    assert CANARY_API_KEY not in page
    assert _names(api) == []


def test_a_wrong_key_is_said_next_to_the_key(api: Api, emulator_url: str) -> None:
    """Iterable refuses the key: the error is by the key field; nothing saved."""
    page = _save(_as_admin(api), name="Iterable", api_key="x" * 32,
                 base_url=emulator_url, i_agree="yes")  # fmt: skip

    assert 'id="api_key-error"' in page
    assert _names(api) == []


def test_a_saved_connection_is_listed_with_its_key_tail(
    api: Api, emulator_url: str
) -> None:
    """Save with I agree: back to the list, which shows the last four characters."""
    page = _save(_as_admin(api), name="Iterable US", api_key=CANARY_API_KEY,
                 base_url=emulator_url, i_agree="yes",
                 allow_contributors="yes")  # fmt: skip

    assert _names(api) == ["Iterable US"]
    assert "<h1>Connections</h1>" in page
    assert CANARY_API_KEY[-4:] in page
    assert CANARY_API_KEY not in page
    assert "Administrators and contributors" in page


def test_a_contributor_sees_names_and_types_only(api: Api, emulator_url: str) -> None:
    """No settings column and no key tail for a contributor; no Add button."""
    _save(_as_admin(api), name="Iterable US", api_key=CANARY_API_KEY,
          base_url=emulator_url, i_agree="yes", allow_contributors="yes")  # fmt: skip
    api.client.cookies.clear()
    sign_in(api.client, "contributor", PASSWORD)

    page = api.client.get("/connections").text

    assert "Iterable US" in page
    assert CANARY_API_KEY[-4:] not in page
    assert "/connections/new" not in page


def test_a_contributor_cannot_add_a_connection(api: Api, emulator_url: str) -> None:
    """The form says who can, and the server refuses the POST anyway (403)."""
    sign_in(api.client, "contributor", PASSWORD)
    form = api.client.get("/connections/new")
    answer = api.client.post(
        "/connections/new",
        data={"csrf": _csrf(form.text), "name": "Mine", "api_key": CANARY_API_KEY,
              "base_url": emulator_url, "i_agree": "yes"},
    )  # fmt: skip

    assert form.status_code == 403
    assert "Only administrators add connections." in form.text
    assert answer.status_code == 403
    assert _names(api) == []


def test_the_french_form_shows_the_french_statement(api: Api) -> None:
    """The statement people agree to, in French, with J'accepte."""
    client = _as_admin(api)
    client.post("/language", data={"lang": "fr", "back": "/connections/new"})

    page = client.get("/connections/new").text

    assert "Confidentialité et conformité des données" in page
    assert "J\u2019accepte" in page


def test_a_wrong_key_is_said_in_french_on_the_french_page(
    api: Api, emulator_url: str
) -> None:
    """The refusal by the key field is in the page's language."""
    client = _as_admin(api)
    client.post("/language", data={"lang": "fr", "back": "/connections/new"})

    page = _save(client, name="Iterable", api_key="x" * 32, base_url=emulator_url,
                 i_agree="yes")  # fmt: skip

    assert "Iterable a refusé cette clé d\u2019API." in page


def test_an_administrator_shares_a_connection_and_a_contributor_cannot(
    api: Api, emulator_url: str
) -> None:
    """Share from the list; the same POST by a contributor is refused (403 page)."""
    client = _as_admin(api)
    listed = _save(client, name="Iterable US", api_key=CANARY_API_KEY,
                   base_url=emulator_url, i_agree="yes")  # fmt: skip
    client.post("/connections/Iterable%20US/sharing",
                data={"csrf": _csrf(listed), "shared": "yes"})  # fmt: skip
    with api.workspace() as workspace:
        assert workspace.connections.get("Iterable US").settings.shared  # type: ignore[union-attr]
    client.cookies.clear()
    page = sign_in(client, "contributor", PASSWORD)

    refused = client.post("/connections/Iterable%20US/sharing",
                          data={"csrf": _csrf(page), "shared": "no"})  # fmt: skip

    assert refused.status_code == 403
    with api.workspace() as workspace:
        assert workspace.connections.get("Iterable US").settings.shared  # type: ignore[union-attr]


def _connect(
    client: TestClient, *, json: bool = True, **fields: str
) -> tuple[int, str, dict[str, object] | None]:
    """Press Connect (as the page's script does, or as a plain form)."""
    form = client.get("/connections/new")
    headers = {"Accept": "application/json"} if json else {}
    answer = client.post(
        "/connections/new/check",
        data={"csrf": _csrf(form.text), **fields}, headers=headers,
    )  # fmt: skip
    return answer.status_code, answer.text, answer.json() if json else None


def test_connect_says_a_good_key_works_and_saves_nothing(
    api: Api, emulator_url: str
) -> None:
    """Connect with the emulator's key: accepted (its last four only), nothing saved."""
    status, text, body = _connect(
        _as_admin(api), api_key=CANARY_API_KEY, base_url=emulator_url
    )

    assert status == 200
    assert body == {"ok": True, "field": None, "message": (
        f"Iterable accepted the key ending in …{CANARY_API_KEY[-4:]}: it may"
        " manage lists there."
    )}  # fmt: skip
    assert CANARY_API_KEY not in text
    assert _names(api) == []


def test_connect_says_a_wrong_key_by_its_field_in_french(
    api: Api, emulator_url: str
) -> None:
    """A refused key: 422, the key field, the sentence in the page's language."""
    client = _as_admin(api)
    client.cookies.set("lang", "fr")

    status, _, body = _connect(client, api_key="x" * 32, base_url=emulator_url)

    assert status == 422
    assert body is not None
    assert body["field"] == "api_key"
    assert str(body["message"]).startswith("Iterable a refusé cette clé")


def test_connect_without_the_script_shows_the_form_with_the_answer(
    api: Api, emulator_url: str
) -> None:
    """No JavaScript: the form again, the answer under Connect, the key not echoed."""
    status, text, _ = _connect(
        _as_admin(api), json=False, api_key=CANARY_API_KEY, base_url=emulator_url,
        name="Iterable US",
    )  # fmt: skip

    assert status == 200
    assert "Iterable accepted the key ending in" in text
    assert 'value="Iterable US"' in text
    assert CANARY_API_KEY not in text


def test_connect_is_for_administrators(api: Api, emulator_url: str) -> None:
    """A contributor's Connect is refused (403); Iterable is not asked."""
    sign_in(api.client, "contributor", PASSWORD)

    status, _, body = _connect(api.client, api_key=CANARY_API_KEY,
                               base_url=emulator_url)  # fmt: skip

    assert status == 403
    assert body is not None
    assert body["ok"] is False


def test_connect_without_the_forms_token_asks_nothing(
    api: Api, emulator_url: str
) -> None:
    """No CSRF token: refused as an expired form."""
    client = _as_admin(api)

    answer = client.post(
        "/connections/new/check",
        data={"api_key": CANARY_API_KEY, "base_url": emulator_url},
        headers={"Accept": "application/json"},
    )

    assert answer.status_code == 403
    assert answer.json()["ok"] is False
