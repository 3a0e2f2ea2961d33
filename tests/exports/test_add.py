"""Adding an export: what is saved, every check's message, counts and warnings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update

from audiencesync.errors import (
    AudiencesyncError,
    ConfigError,
    ConflictError,
    NotFoundError,
)
from audiencesync.exports import ExportService, checks
from audiencesync.profiles import open_engine
from audiencesync.store.accounts import AuditEvent
from audiencesync.store.destinations import Connection
from tests.exports.conftest import ADMIN, ADMINS_ONLY, CONTRIBUTOR, SHARED, Place

COLUMNS = (
    "customer_id, email, country, lifetime_value, orders, marketing_consent,"
    " signup_date, crm_id"
)


def test_add_saves_the_export_and_counts_its_segments(place: Place) -> None:
    """The export is saved with its segments in order, and each is counted now."""
    created = place.add(segments=["Germany", "France"])
    assert created.member_counts == {"Germany": 1, "France": 2}
    assert created.export.segments == ("Germany", "France")
    assert created.warnings == ()


def test_add_uses_the_defaults(place: Place) -> None:
    """Refresh schedule in UTC, mirror mode, brake 20 %, no optional mapping."""
    export = place.add().export
    expected: tuple[object, ...] = (
        SHARED, True, True, "email", None, {}, "refresh", "UTC", "mirror"
    )  # fmt: skip
    actual = (
        export.connection,
        export.connection_shared,
        export.active,
        export.email_field,
        export.user_id_field,
        dict(export.fields),
        export.schedule,
        export.timezone,
        export.mode,
    )
    assert actual == expected
    assert (export.removal_brake, export.consent_column) == (20, None)
    assert (export.last_run_status, export.created_by) == ("none yet", "admin")


def test_add_keeps_every_option(place: Place) -> None:
    """Every option given is saved as given (cron single-spaced)."""
    export = place.add(
        user_id_field="crm_id",
        fields={"ltv": "lifetime_value", "signedUp": "signup_date"},
        schedule="0  9 * * MON",
        timezone="Europe/Paris",
        mode="add-only",
        removal_brake=35,
        consent_column="marketing_consent",
    ).export
    assert export.user_id_field == "crm_id"
    assert dict(export.fields) == {"ltv": "lifetime_value", "signedUp": "signup_date"}
    assert (export.schedule, export.timezone) == ("0 9 * * MON", "Europe/Paris")
    assert (export.mode, export.removal_brake) == ("add-only", 35)
    assert export.consent_column == "marketing_consent"


def test_names_are_trimmed_and_found_in_any_case(place: Place) -> None:
    """The name is trimmed; connection and segments are found case-insensitively."""
    export = place.add(
        "  Newsletter  ", connection=SHARED.upper(), segments=["france"]
    ).export
    assert (export.name, export.connection, export.segments) == (
        "Newsletter",
        SHARED,
        ("France",),
    )


def test_a_name_taken_in_any_case_is_refused(place: Place) -> None:
    """Export names are unique regardless of case."""
    place.add("Newsletter")
    expected = (
        "An export named 'NEWSLETTER' already exists ('Newsletter' differs only in"
        " case). Choose another name, or change the existing export."
    )
    with pytest.raises(ConflictError, match=f"^{re.escape(expected)}$"):
        place.add("NEWSLETTER")


BAD_OPTIONS: list[tuple[str, dict[str, Any], type[AudiencesyncError], str]] = [
    ("empty name", {"name": "  "}, ConfigError, "An export needs a name"),
    (
        "long name",
        {"name": "x" * 256},
        ConfigError,
        "The export name is 256 characters long; the limit is 255.",
    ),
    (
        "control character",
        {"name": "News\tletter"},
        ConfigError,
        "Export names cannot contain tabs",
    ),
    (
        "unknown connection",
        {"connection": "Iterable shard"},
        NotFoundError,
        "There is no connection named 'Iterable shard'. Did you mean 'Iterable"
        " shared'? Connections you can use: Iterable admins, Iterable shared.",
    ),
    (
        "unknown email column",
        {"email_field": "emial"},
        NotFoundError,
        "The email field 'emial' is not a column of the profile table customers."
        f" Did you mean 'email'? (columns: {COLUMNS})",
    ),
    (
        "email column in another case",
        {"email_field": "EMAIL"},
        NotFoundError,
        "Did you mean 'email'?",
    ),
    (
        "email column not text",
        {"email_field": "orders"},
        ConfigError,
        "The email field 'orders' holds integer values (BIGINT); emails are text."
        " Choose the text column that holds email addresses (text columns:"
        " customer_id, email, country).",
    ),
    (
        "unknown user id column",
        {"user_id_field": "crm"},
        NotFoundError,
        "The userId field 'crm' is not a column of the profile table customers.",
    ),
    (
        "user id column not text",
        {"user_id_field": "marketing_consent"},
        ConfigError,
        "The userId field 'marketing_consent' holds boolean values (BOOLEAN);"
        " Iterable user IDs are text. Choose a text or integer column.",
    ),
    (
        "field column unknown",
        {"fields": {"ltv": "lifetime_valu"}},
        NotFoundError,
        "'lifetime_valu' (mapped to the Iterable field 'ltv') is not a column of the"
        " profile table customers. Did you mean 'lifetime_value'?",
    ),
    (
        "reserved field",
        {"fields": {"emailListIds": "country"}},
        ConfigError,
        "The Iterable field 'emailListIds' cannot be mapped: Iterable manages",
    ),
    ("no segment", {"segments": []}, ConfigError, "An export needs at least one"),
    (
        "unknown segment",
        {"segments": ["Frnace"]},
        NotFoundError,
        "There is no segment named 'Frnace'. Did you mean 'France'?",
    ),
    (
        "segment twice",
        {"segments": ["France", "FRANCE"]},
        ConfigError,
        "The segment 'FRANCE' is given twice (as 'France' and 'FRANCE'): each"
        " segment feeds one list; give it once.",
    ),
    (
        "bad cron",
        {"schedule": "0 25 * * *"},
        ConfigError,
        "The hour field '25' of the schedule '0 25 * * *' is not valid: use 0-23",
    ),
    (
        "unknown time zone",
        {"timezone": "Europe/Pari"},
        ConfigError,
        "Unknown time zone 'Europe/Pari'. Did you mean 'Europe/Paris'?",
    ),
    (
        "unknown mode",
        {"mode": "mirrors"},
        ConfigError,
        "Unknown mode 'mirrors': use mirror (members who leave the segment are"
        " removed from the list) or add-only (nobody is ever removed).",
    ),
    (
        "brake above 100",
        {"removal_brake": 101},
        ConfigError,
        "The removal brake 101 is out of range: give a percentage from 0",
    ),
    (
        "brake below 0",
        {"removal_brake": -1},
        ConfigError,
        "The removal brake -1 is out of range",
    ),
    (
        "consent column unknown",
        {"consent_column": "consent"},
        NotFoundError,
        "The consent column 'consent' is not a column of the profile table",
    ),
    (
        "consent column not boolean",
        {"consent_column": "country"},
        ConfigError,
        "The consent column 'country' holds text values (VARCHAR); it must be"
        " boolean (true: may be sent). Boolean columns: marketing_consent.",
    ),
]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [case[1:] for case in BAD_OPTIONS],
    ids=[case[0] for case in BAD_OPTIONS],
)
def test_each_bad_option_is_refused_with_its_fix(
    place: Place,
    options: dict[str, Any],
    error: type[AudiencesyncError],
    message: str,
) -> None:
    """Each check names the problem; nothing is saved and nothing is audited."""
    with pytest.raises(error, match=re.escape(message)):
        place.add(**options)
    assert (place.export_count(), place.export_events()) == (0, [])


def test_checks_run_in_form_order(place: Place) -> None:
    """With several mistakes, the first in form order is reported."""
    with pytest.raises(NotFoundError, match="The email field 'nope'"):
        place.add(email_field="nope", segments=["nope"], mode="nope")


def test_contributors_are_offered_only_shared_connections(place: Place) -> None:
    """An unknown connection lists only the connections the actor may use."""
    with pytest.raises(
        NotFoundError, match=r"Connections you can use: Iterable shared\.$"
    ):
        place.add(connection="Elsewhere", actor=CONTRIBUTOR)


def test_no_usable_connection_says_who_can_fix_it(place: Place) -> None:
    """When no connection is shared, the message names the administrators."""
    with place.database.session() as session:
        session.execute(update(Connection).values(shared=False))
    expected = (
        "There is no connection named 'Elsewhere'. No connection is available to"
        " cora: an administrator (admin) must add one, or share one with"
        " contributors."
    )
    with pytest.raises(NotFoundError, match=f"^{re.escape(expected)}$"):
        place.add(connection="Elsewhere", actor=CONTRIBUTOR)


def test_without_a_profile_table_the_message_says_import_first(place: Place) -> None:
    """Before any profiles exist there is no column to choose from."""
    settings = place.settings.model_copy(update={"profile_table": "people"})
    engine = open_engine(settings)
    try:
        service = ExportService(place.database, engine, ADMIN)
        with pytest.raises(NotFoundError, match="no profile table 'people' yet"):
            service.add(
                "N", connection=SHARED, email_field="email", segments=["France"]
            )
    finally:
        engine.close()


def test_a_large_segment_gets_a_warning_with_the_time(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Segments above LARGE_SEGMENT members are announced with an estimate."""
    monkeypatch.setattr(checks, "LARGE_SEGMENT", 1)
    created = place.add(segments=["France", "Germany"])
    assert created.warnings == (
        "Segment 'France' has 2 members: the first export sends them all; at"
        " Iterable's limits that takes about 1 minute.",
    )


def test_the_estimate_assumes_1000_per_call_and_5_calls_a_second() -> None:
    """2,345,678 members: 2,346 calls at 5 a second is about 8 minutes."""
    assert checks.size_warnings({"Everyone": 2_345_678}) == [
        "Segment 'Everyone' has 2,345,678 members: the first export sends them all;"
        " at Iterable's limits that takes about 8 minutes."
    ]


def test_segments_at_the_threshold_get_no_warning() -> None:
    """Exactly LARGE_SEGMENT members is not yet large."""
    assert checks.size_warnings({"Edge": checks.LARGE_SEGMENT}) == []


def test_add_writes_one_audit_event_without_profile_data(place: Place) -> None:
    """One ``export.add`` event with the connection, segments, schedule and mode."""
    place.add(segments=["France", "Germany"], fields={"ltv": "lifetime_value"})
    with place.database.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.target_type == "export")
        ).all()
        assert [(e.actor, e.action, e.target) for e in events] == [
            ("admin", "export.add", "Newsletter")
        ]
        assert events[0].details == {
            "connection": SHARED,
            "segments": ["France", "Germany"],
            "schedule": "refresh",
            "mode": "mirror",
        }


def test_add_on_an_admins_only_connection_by_an_admin(place: Place) -> None:
    """Administrators may use connections that are not shared."""
    export = place.add(connection=ADMINS_ONLY).export
    assert (export.connection, export.connection_shared) == (ADMINS_ONLY, False)
