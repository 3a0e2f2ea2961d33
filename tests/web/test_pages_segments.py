"""Data > Segments in the pages: the list, Add / Edit segment, a segment's page.

In process (the ASGI client), over a real data folder: three customers, segments
France (C1, C2) and Germany (C3); users of each role.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from audiencesync.segments.rules import parse_where
from tests.segments.histories import seed_histories, statements
from tests.web.conftest import Api
from tests.web.exports_setup import SHARED, add_connections, add_profiles_and_segments
from tests.web.test_pages import PASSWORD, _csrf, sign_in

FRANCE_RULES = {"all": [{"field": "country", "op": "=", "value": "FR"},
                        {"field": "orders", "op": ">=", "value": 1}]}  # fmt: skip


def _ready(api: Api, role: str = "contributor") -> str:
    add_profiles_and_segments(api)
    return sign_in(api.client, role)


def _view(name: str) -> str:
    return f"/segments/view?name={quote(name, safe='')}"


def _post_form(api: Api, path: str, page: str = "/segments", **fields: str) -> Any:
    csrf = _csrf(api.client.get(page).text) if "csrf" not in fields else None
    data = {"csrf": csrf, **fields} if csrf else fields
    return api.client.post(path, data=data, follow_redirects=False)


def _add(api: Api, name: str, **fields: str) -> Any:
    """POST Add segment (an SQL condition unless told), not following the redirect."""
    values = {"name": name, "kind": "where", "where": "country = 'FR'",
              "rules": "", "description": ""}  # fmt: skip
    values.update(fields)
    form = api.client.get("/segments/new")
    return api.client.post(
        "/segments/new", data={"csrf": _csrf(form.text), **values},
        follow_redirects=False,
    )  # fmt: skip


def _names(api: Api) -> list[str]:
    with api.workspace() as workspace:
        return [info.name for info in workspace.segments.list_all()]


# --- the list --------------------------------------------------------------------


def test_the_list_shows_each_segment_with_its_count_and_link(api: Api) -> None:
    """Each segment, its member count, its page's link; Add segment for contributors."""
    _ready(api)

    page = api.client.get("/segments").text

    assert "<h1>Segments</h1>" in page
    assert '<a href="/segments/view?name=France">France</a>' in page
    assert re.search(r'<td class="number">2</td>', page)
    assert 'href="/segments/new"' in page


def test_the_trend_is_a_sparkline_with_its_text(api: Api) -> None:
    """A counts history is drawn, and said: from the first count to the last."""
    _ready(api)
    seed_histories(
        api.context.database,
        {"Growing": [1200, 1250, 1190, 1300, 1310, 1320, 1340, 1350]},
    )

    page = api.client.get("/segments").text

    assert 'aria-label="from 1,200 to 1,350 over 8 evaluations"' in page
    assert re.search(
        r"<polyline [^>]*points=\"([\d.]+,[\d.]+ ){7}[\d.]+,[\d.]+\"", page
    )


def test_the_trend_and_counts_follow_the_language(api: Api) -> None:
    """In French the numbers are grouped the French way, the words are French."""
    _ready(api)
    seed_histories(api.context.database, {"Growing": [1200, 1350]})
    api.client.cookies.set("lang", "fr")

    page = api.client.get("/segments").text

    assert "de 1\u202f200 à 1\u202f350 sur 2 évaluations" in page
    assert "Ajouter un segment" in page


def test_the_list_is_paginated_by_fifty(api: Api) -> None:
    """120 segments: 50 a page, with links to the next and previous pages."""
    _ready(api)
    seed_histories(
        api.context.database, {f"S{index:03d}": [index] for index in range(120)}
    )

    first = api.client.get("/segments").text
    last = api.client.get("/segments?offset=100").text

    assert first.count("/segments/view?name=") == 50
    assert 'href="/segments?offset=50" rel="next"' in first
    assert 'rel="prev"' not in first
    assert last.count("/segments/view?name=") == 22  # S100..S119, France, Germany
    assert 'href="/segments?offset=50" rel="prev"' in last
    assert 'rel="next"' not in last


def test_the_list_runs_as_many_queries_for_500_segments_as_for_2(api: Api) -> None:
    """No query per segment: the page's statements do not grow with the segments."""
    _ready(api)
    api.client.get("/segments")  # warm: the session's first lookups
    with statements(api.context.database) as few:
        api.client.get("/segments")
    seed_histories(
        api.context.database, {f"S{index:03d}": list(range(30)) for index in range(500)}
    )

    with statements(api.context.database) as many:
        page = api.client.get("/segments?offset=450").text

    assert len(many) == len(few)
    assert page.count("<svg") == 50


# --- adding and editing ----------------------------------------------------------


def test_saving_an_sql_segment_opens_its_page_with_the_preview(api: Api) -> None:
    """Save: the segment's page with its SQL, its count and its first members."""
    _ready(api)

    answer = _add(api, "French buyers", where="country = 'FR' AND orders >= 1")
    page = api.client.get(answer.headers["location"]).text

    assert answer.status_code == 303
    assert answer.headers["location"] == "/segments/view?name=French+buyers"
    assert "<h1>French buyers</h1>" in page
    assert "country = &#39;FR&#39; AND orders &gt;= 1" in page
    assert "Showing 2 of 2 members." in page
    assert "<td>C1</td>" in page
    assert "<td>C2</td>" in page


def test_saving_a_rules_segment_shows_its_rules_readably(api: Api) -> None:
    """Rules from the builder's hidden field: saved, shown as nested conditions."""
    _ready(api)

    answer = _add(api, "Builder", kind="rules", rules=json.dumps(FRANCE_RULES),
                  where="")  # fmt: skip
    page = api.client.get(answer.headers["location"]).text

    assert answer.status_code == 303, answer.text
    assert "all of:" in page
    assert "<code>country = FR</code>" in page
    assert "<code>orders &gt;= 1</code>" in page


def test_without_javascript_an_sql_condition_is_used(api: Api) -> None:
    """The builder left chosen but empty (no JavaScript): the SQL condition counts."""
    _ready(api)

    answer = _add(api, "No script", kind="rules", rules="", where="country = 'DE'")

    assert answer.status_code == 303
    with api.workspace() as workspace:
        assert workspace.segments.get("No script").member_count == 1


def test_an_unknown_column_is_said_by_the_sql_field(api: Api) -> None:
    """422: the error next to the SQL condition, what was typed kept."""
    _ready(api)

    answer = _add(api, "Typo", where="contry = 'FR'")

    assert answer.status_code == 422
    status = re.search(r'id="where-status"[^>]*>([^<]*)<', answer.text)
    assert status is not None
    assert "contry" in status.group(1)
    assert 'aria-invalid="true"' in answer.text
    assert 'value="Typo"' in answer.text
    assert "Typo" not in _names(api)


def test_a_bad_rule_is_said_by_the_builder(api: Api) -> None:
    """An empty group in the rules: the error under the builder."""
    _ready(api)

    answer = _add(api, "Empty", kind="rules", rules='{"all": []}', where="")

    assert answer.status_code == 422
    assert re.search(r'id="rules-status"[^>]*>[^<]*is empty', answer.text)


def test_a_taken_name_is_said_by_the_name_field(api: Api) -> None:
    """A name in use (whatever its case): 409, the error by the name."""
    _ready(api)

    answer = _add(api, "france")

    assert answer.status_code == 409
    assert re.search(r'id="name-error">[^<]*already exists', answer.text)


def test_a_form_without_its_token_saves_nothing(api: Api) -> None:
    """Add segment without the CSRF token: refused, nothing saved."""
    _ready(api)

    answer = api.client.post(
        "/segments/new", data={"name": "Forged", "kind": "where", "where": "1 = 1"}
    )

    assert answer.status_code == 403
    assert "The form expired; send it again." in answer.text
    assert "Forged" not in _names(api)


def test_the_edit_form_is_filled_and_saving_recounts(api: Api) -> None:
    """Edit: the current SQL in the form; saving a new one updates the count."""
    _ready(api)
    form = api.client.get("/segments/edit?name=France").text

    answer = api.client.post(
        "/segments/edit?name=France",
        data={"csrf": _csrf(form), "kind": "where", "where": "country = 'DE'",
              "rules": "", "description": "Now German", "revision": "1"},
        follow_redirects=False,
    )  # fmt: skip

    assert "country = &#39;FR&#39;</textarea>" in form
    assert answer.status_code == 303
    with api.workspace() as workspace:
        info = workspace.segments.get("France")
    assert (info.member_count, info.description) == (1, "Now German")


def test_a_stale_edit_says_the_segment_changed(api: Api) -> None:
    """An edit from a form read before another change: refused, said so, kept."""
    _ready(api)
    form = api.client.get("/segments/edit?name=France").text
    with api.workspace() as workspace:
        workspace.segments.update("France", description="changed meanwhile")

    answer = api.client.post(
        "/segments/edit?name=France",
        data={"csrf": _csrf(form), "kind": "where", "where": "country = 'DE'",
              "rules": "", "description": "", "revision": "1"},
    )  # fmt: skip

    assert answer.status_code == 412
    assert "Someone changed this segment since you opened this form" in answer.text
    assert "country = &#39;DE&#39;</textarea>" in answer.text
    with api.workspace() as workspace:
        assert workspace.segments.get("France").member_count == 2


def test_the_builder_gets_the_columns_tables_and_operators(api: Api) -> None:
    """The form carries the profile columns (with kinds) and the operators."""
    _ready(api)

    page = api.client.get("/segments/new").text
    found = re.search(r'id="builder-schema">(.*?)</script>', page, re.DOTALL)

    assert found is not None
    schema = json.loads(found.group(1))
    assert {"name": "country", "kind": "text"} in schema["columns"]
    assert any(op["op"] == "in_last_days" for op in schema["operators"])


# --- a segment's page ---------------------------------------------------------------


def test_the_page_shows_the_counts_history(api: Api) -> None:
    """The counts history, newest first, with its duration and engine."""
    _ready(api)

    page = api.client.get(_view("France")).text

    assert "Counts history" in page
    assert "duckdb" in page
    assert 'href="/segments/edit?name=France"' in page
    assert 'href="/segments/remove?name=France"' in page


def test_viewing_a_segment_leaves_its_counts_history_alone(api: Api) -> None:
    """The page counts for its preview but records nothing: trends stay evaluations."""
    _ready(api)
    with api.workspace() as workspace:
        before = len(workspace.segments.history("France", limit=100))

    for _ in range(3):
        assert api.client.get(_view("France")).status_code == 200

    with api.workspace() as workspace:
        assert len(workspace.segments.history("France", limit=100)) == before


def test_explaining_a_member_shows_each_condition(api: Api) -> None:
    """Key C1 is in France-and-orders: each condition said to hold."""
    _ready(api)
    _add(api, "Builder", kind="rules", rules=json.dumps(FRANCE_RULES), where="")
    page = api.client.get(_view("Builder")).text

    answer = api.client.post(
        "/segments/explain", data={"csrf": _csrf(page), "name": "Builder", "key": "C1"}
    )

    assert answer.status_code == 200
    assert "This profile is in the segment." in answer.text
    assert answer.text.count("✓ holds") == 3  # the group and its two conditions
    assert 'value="C1"' in answer.text


def test_explaining_an_outsider_says_which_condition_fails(api: Api) -> None:
    """Key C3 (Germany) is not in France: the condition that does not hold."""
    _ready(api)
    page = api.client.get(_view("France")).text

    answer = api.client.post(
        "/segments/explain", data={"csrf": _csrf(page), "name": "France", "key": "C3"}
    )

    assert "This profile is not in the segment." in answer.text
    assert "✗ does not hold" in answer.text


def test_an_unknown_key_is_said_by_the_key_field(api: Api) -> None:
    """No profile with that key: 404, the error by the key input, not a crash."""
    _ready(api)
    page = api.client.get(_view("France")).text

    answer = api.client.post(
        "/segments/explain",
        data={"csrf": _csrf(page), "name": "France", "key": "nobody@example.com"},
    )

    assert answer.status_code == 404
    assert re.search(r'id="key-error" role="alert">There is no profile', answer.text)


def test_an_unknown_segment_is_a_page_saying_so(api: Api) -> None:
    """/segments/view?name=Nowhere: 404, a page, not a stack trace."""
    _ready(api)

    answer = api.client.get(_view("Nowhere"))

    assert answer.status_code == 404
    assert "There is no segment named" in answer.text
    assert "Traceback" not in answer.text


def test_removing_asks_first_then_removes(api: Api) -> None:
    """Remove: a confirmation page; Yes removes it and the list says so."""
    _ready(api)
    confirm = api.client.get("/segments/remove?name=Germany")

    answer = api.client.post(
        "/segments/remove",
        data={"csrf": _csrf(confirm.text), "name": "Germany", "revision": "1"},
    )

    assert "This cannot be undone." in confirm.text
    assert answer.status_code == 200
    assert "Segment Germany was removed." in answer.text
    assert _names(api) == ["France"]


def test_a_segment_an_export_uses_cannot_be_removed_and_says_why(api: Api) -> None:
    """409: the export that uses it is named; the segment stays."""
    _ready(api)
    add_connections(api)
    with api.workspace() as workspace:
        workspace.exports.add("Weekly", connection=SHARED, email_field="email",
                              segments=["France"])  # fmt: skip
    confirm = api.client.get("/segments/remove?name=France")

    answer = api.client.post(
        "/segments/remove",
        data={"csrf": _csrf(confirm.text), "name": "France", "revision": "1"},
    )

    assert answer.status_code == 409
    assert "Segment “France” is exported by Weekly." in answer.text
    assert "France" in _names(api)


def test_a_removal_without_the_token_removes_nothing(api: Api) -> None:
    """POST /segments/remove without the CSRF token: refused, still there."""
    _ready(api)

    answer = api.client.post("/segments/remove", data={"name": "Germany"})

    assert answer.status_code == 403
    assert "Germany" in _names(api)


# --- viewers ---------------------------------------------------------------------


def test_a_viewer_sees_no_change_control_nor_profile_data(api: Api) -> None:
    """No Add, Edit, Remove, preview or explain for viewers; the counts are there."""
    _ready(api, "viewer")

    listing = api.client.get("/segments").text
    page = api.client.get(_view("France")).text

    assert "Add segment" not in listing
    assert "/segments/edit" not in page
    assert "/segments/remove" not in page
    assert "explain-form" not in page
    assert "<td>C1</td>" not in page
    assert "Counts history" in page


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/segments/new", {"name": "Forged", "kind": "where", "where": "1 = 1"}),
        ("/segments/edit?name=France",
         {"kind": "where", "where": "country = 'DE'", "revision": "1"}),
        ("/segments/remove", {"name": "France", "revision": "1"}),
        ("/segments/explain", {"name": "France", "key": "C1"}),
    ],
)  # fmt: skip
def test_the_server_refuses_a_viewers_changes(
    api: Api, path: str, fields: dict[str, str]
) -> None:
    """A viewer's forged POST (with a valid token) is refused: 403, nothing done."""
    page = _ready(api, "viewer")

    answer = api.client.post(path, data={"csrf": _csrf(page), **fields})

    assert answer.status_code == 403
    assert "Viewers read but change nothing." in answer.text
    with api.workspace() as workspace:
        assert workspace.segments.get("France").member_count == 2
    assert _names(api) == ["France", "Germany"]


@pytest.mark.parametrize("path", ["/segments/new", "/segments/edit?name=France",
                                  "/segments/remove?name=France"])  # fmt: skip
def test_a_viewer_asking_for_a_form_gets_a_refusal_page(api: Api, path: str) -> None:
    """The forms themselves answer 403 for viewers."""
    _ready(api, "viewer")

    answer = api.client.get(path)

    assert answer.status_code == 403
    assert '<form method="post" action="/segments' not in answer.text


# --- names of any characters -------------------------------------------------------

ODD_NAMES = ["a/edit", "x/y", "Été 2026 — VIP", "new", "view?name=France", "50% & more"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_any_name_round_trips_through_the_pages(api: Api, name: str) -> None:
    """Saved from the form, its page, its edit form and its removal find it alone."""
    _ready(api)

    answer = _add(api, name, where="country = 'DE'")
    location = answer.headers["location"]
    page = api.client.get(location).text
    edit = api.client.get(location.replace("/view?", "/edit?")).text
    confirm = api.client.get(location.replace("/view?", "/remove?")).text

    assert answer.status_code == 303, answer.text
    assert parse_qs(urlsplit(location).query)["name"] == [name]
    assert f"<h1>{_escaped(name)}</h1>" in page
    assert "Showing 1 of 1 member." in page
    assert _escaped(name) in edit
    removed = api.client.post(
        "/segments/remove",
        data={"csrf": _csrf(confirm), "name": name, "revision": "1"},
    )
    assert removed.status_code == 200
    assert _names(api) == ["France", "Germany"]


def test_a_name_like_an_action_is_not_mistaken_for_another(api: Api) -> None:
    """Segments "a" and "a/edit": each page shows its own definition."""
    _ready(api)
    _add(api, "a", where="country = 'FR'")
    _add(api, "a/edit", where="country = 'DE'")

    plain = api.client.get(_view("a")).text
    slashed = api.client.get(_view("a/edit")).text

    assert "Showing 2 of 2 members." in plain
    assert "Showing 1 of 1 member." in slashed


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("?", "?")


def test_signing_in_returns_to_the_segment_asked_for(api: Api) -> None:
    """Signed out, /segments/view?name=x/y leads to sign in, then back to x/y."""
    add_profiles_and_segments(api)
    with api.workspace() as workspace:
        workspace.segments.create("x/y", parse_where("country = 'DE'"))

    asked = api.client.get(_view("x/y"), follow_redirects=False)
    form = api.client.get(asked.headers["location"]).text
    target = re.search(r'name="next" value="([^"]+)"', form)
    assert target is not None
    answer = api.client.post(
        "/sign-in",
        data={"name": "viewer", "password": PASSWORD, "csrf": _csrf(form),
              "next": target.group(1).replace("&amp;", "&")},
    )  # fmt: skip

    assert "<h1>x/y</h1>" in answer.text


def test_a_steady_count_is_a_level_line_through_the_middle(api: Api) -> None:
    """Three equal counts: every point of the sparkline at mid-height."""
    _ready(api)
    seed_histories(api.context.database, {"Steady": [7, 7, 7]})

    page = api.client.get("/segments").text
    found = re.search(r'points="([^"]+)"', page)

    assert found is not None
    assert {point.split(",")[1] for point in found.group(1).split()} == {"14.0"}
