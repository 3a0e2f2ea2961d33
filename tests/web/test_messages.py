"""Service errors on the pages are said in the page's language, by their code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.passwords import check_password
from audiencesync.errors import AudiencesyncError, ConfigError, ConflictError
from audiencesync.profiles.identifiers import check_table_name
from audiencesync.profiles.service import import_profiles
from audiencesync.scheduling.schedules import check_cron, normalize_timezone
from audiencesync.segments.rules import parse_where
from audiencesync.settings import load_settings
from audiencesync.web.pages.i18n import translations
from audiencesync.web.pages.messages import explain
from tests.web.conftest import Api
from tests.web.test_pages import sign_in

FRENCH = translations("fr")
ENGLISH = translations("en")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A data folder with two customers and a segment FR exported by nobody."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text("customer_id,email,country\nC1,a@x.io,FR\n", encoding="utf-8")
    import_profiles(settings, source)
    with open_workspace(settings) as opened:
        opened.segments.create("FR", parse_where("country = 'FR'"))
        yield opened


def _raised(call: object) -> AudiencesyncError:
    with pytest.raises(AudiencesyncError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_a_missing_segment_is_said_in_french(workspace: Workspace) -> None:
    """segment_not_found, filled from its details, in French."""
    error = _raised(lambda: workspace.segments.get("Nulle part"))

    assert explain(error, FRENCH) == "Aucun segment ne s\u2019appelle « Nulle part »."


def test_english_pages_get_the_catalog_string_in_english(workspace: Workspace) -> None:
    """The English page shows the same short sentence, in English."""
    error = _raised(lambda: workspace.segments.get("Nowhere"))

    assert explain(error, ENGLISH) == "There is no segment named “Nowhere”."


def test_a_name_taken_is_said_for_its_kind(workspace: Workspace) -> None:
    """name_taken of a segment: the segment sentence, not the generic one."""
    error = _raised(lambda: workspace.segments.create("fr", parse_where("1 = 1")))

    assert explain(error, FRENCH).startswith("Un segment nommé « FR » existe déjà.")


def test_an_unknown_column_names_the_column(workspace: Workspace) -> None:
    """unknown_column keeps the column and the table."""
    error = _raised(
        lambda: workspace.segments.create("DE", parse_where("contry = 'DE'"))
    )

    assert explain(error, FRENCH) == (
        "Colonne inconnue « contry » dans la table customers."
    )


def test_a_file_missing_columns_names_them(tmp_path: Path) -> None:
    """columns_differ with missing columns: the variant that lists them."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("customer_id,email,country\nC1,a@x.io,FR\n", encoding="utf-8")
    second.write_text("customer_id,email\nC2,b@x.io\n", encoding="utf-8")
    import_profiles(settings, first)
    error = _raised(lambda: import_profiles(settings, second))

    assert explain(error, FRENCH).startswith(
        "Il manque au fichier des colonnes de la table customers : country."
    )


def test_a_segment_in_use_names_its_exports() -> None:
    """segment_in_use lists the exports that still send it."""
    error = ConflictError(
        "in use",
        code="segment_in_use",
        details={"segment": "FR", "exports": ["A", "B"]},
    )

    assert "exporté par A, B." in explain(error, FRENCH)


@pytest.mark.parametrize(
    ("code", "details", "french"),
    [
        ("no_external_profile_table", {"table": "crm"}, "La base de profils"),
        ("query_timeout", {"limit_seconds": 600.0}, "AUDIENCESYNC_PROFILES_TIMEOUT"),
        ("run_files_unusable", {}, "AUDIENCESYNC_RUN_DATA"),
    ],
)
def test_the_settings_errors_of_other_engines_are_said_in_french(
    code: str, details: dict[str, object], french: str
) -> None:
    """Errors a deployment's settings cause have a French sentence naming the fix."""
    error = ConfigError("in English", code=code, details=details)

    assert french in explain(error, FRENCH)


def test_an_unmapped_code_shows_the_services_own_message() -> None:
    """No catalog entry: the English message, which is always right."""
    error = ConfigError("The removal brake 150 is out of range.", field="removal_brake")

    assert explain(error, FRENCH) == "The removal brake 150 is out of range."


def test_details_that_fill_no_variant_show_the_services_message() -> None:
    """A code whose details lack a placeholder falls back to its message."""
    error = ConflictError("Export 'A' is already running.", code="run_in_progress")

    assert explain(error, FRENCH) == "Export 'A' is already running."


def test_an_error_page_says_the_error_in_french(api: Api) -> None:
    """A missing export's page: 404, its sentence in the page's language."""
    sign_in(api.client, "viewer")
    api.client.cookies.set("lang", "fr")

    answer = api.client.get("/exports/Nulle%20part")

    assert answer.status_code == 404
    assert "Aucune exportation ne s\u2019appelle « Nulle part »." in answer.text


def test_a_short_password_is_said_with_its_minimum() -> None:
    """password_invalid (too short): the French sentence with the minimum."""
    error = _raised(lambda: check_password("short"))

    assert explain(error, FRENCH).startswith(
        "Le mot de passe est trop court : utilisez au moins 12 caractères"
    )


def test_a_bad_table_name_is_said_by_its_field_entry() -> None:
    """invalid_source on the table field: the table-name sentence, not another."""
    error = _raised(lambda: check_table_name("1 bad"))

    assert explain(error, ENGLISH).startswith("The table name “1 bad” is not valid")


def test_a_cron_with_four_fields_is_said_in_french() -> None:
    """invalid_cron (field count): the schedule and its count, in French."""
    error = _raised(lambda: check_cron("0 6 * *"))

    assert explain(error, FRENCH).startswith(
        "Le planning « 0 6 * * » a 4 champs ; un planning cron en a 5"
    )


def test_a_wrong_cron_field_is_named_by_its_position() -> None:
    """invalid_cron (a bad field): its position and value."""
    error = _raised(lambda: check_cron("0 25 * * *"))

    assert explain(error, ENGLISH).startswith(
        "Field 2 (“25”) of the schedule “0 25 * * *” is not valid"
    )


def test_a_misspelt_time_zone_suggests_the_right_one() -> None:
    """unknown_timezone with a close name: the suggestion, in French."""
    error = _raised(lambda: normalize_timezone("Europe/Pari"))

    assert explain(error, FRENCH) == (
        "Fuseau horaire inconnu « Europe/Pari ». Vouliez-vous dire « Europe/Paris » ?"
    )


def test_a_viewers_refusal_is_said_in_french(api: Api) -> None:
    """A role refusal carries the role: the viewer's sentence, in French."""
    with api.workspace("viewer") as as_viewer:
        error = _raised(as_viewer.connections.require_manager)

    assert explain(error, FRENCH).startswith(
        "Les lecteurs consultent sans rien modifier."
    )
