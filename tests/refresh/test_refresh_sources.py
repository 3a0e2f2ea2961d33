"""A refresh re-applies each table's sources as they were imported, and never
loses profiles: a merge file is layered on its base, never made the table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.errors import AccessDeniedError, ConflictError, NotFoundError
from audiencesync.profiles.tables import read_table_info
from audiencesync.scheduling.refresh import run_refresh
from tests.refresh.conftest import Place
from tests.refresh.test_cli import invoke
from tests.refresh.test_notifications import (  # noqa: F401 - the fixtures
    Hook,
    Mailbox,
    hook,
    mailbox,
)

pytestmark = pytest.mark.socket

BASE_ROWS = 20_008
HEADER = "customer_id,email,country\n"


def base_csv(rows: int) -> str:
    """``rows`` customers C1.. (every third one in Germany)."""
    return HEADER + "".join(
        f"C{n},c{n}@example.com,{'DE' if n % 3 == 0 else 'FR'}\n"
        for n in range(1, rows + 1)
    )


def touch_later(path: Path, text: str | None = None) -> None:
    """Rewrite ``path`` (when ``text`` is given) with a later modification time."""
    if text is not None:
        path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def rows(place: Place) -> int:
    """Rows of the customers table now."""
    return read_table_info(place.settings.profiles_folder, "customers").rows


@pytest.fixture
def merged(place: Place, tmp_path: Path) -> Path:
    """A 20,008-row base import, then a 2-row file merged into it; the merge file."""
    touch_later(place.source, base_csv(BASE_ROWS))
    patch = tmp_path / "patch.csv"
    patch.write_text(
        HEADER + "C1,ana@example.com,DE\nC99999,new@example.com,FR\n", encoding="utf-8"
    )
    with place.workspace() as workspace:
        workspace.profiles.import_file(place.source, replace=True)
        workspace.profiles.import_file(patch, table="customers")
    assert rows(place) == BASE_ROWS + 1
    return patch


def test_a_changed_merge_file_never_shrinks_its_table(
    place: Place, merged: Path
) -> None:
    """The reported wipe: after the 2-row merge file changed, every row stays."""
    touch_later(merged)
    with place.workspace() as workspace:
        report = run_refresh(workspace)
    (source,) = report.sources
    assert (source.outcome, source.rows) == ("reimported", BASE_ROWS + 1)
    assert rows(place) == BASE_ROWS + 1


def test_merges_are_layered_on_a_changed_base_in_order(
    place: Place, merged: Path
) -> None:
    """A new base is replaced, then the merge file is layered on it again."""
    touch_later(place.source, base_csv(BASE_ROWS) + "C30000,late@example.com,FR\n")
    with place.workspace() as workspace:
        report = run_refresh(workspace)
        france = workspace.segments.count("France")
    assert [(s.outcome, s.rows) for s in report.sources] == [
        ("reimported", BASE_ROWS + 2)
    ]
    # C1 stays in Germany (the merge), C99999 stays (the merge), C30000 joined
    assert france == 2 * BASE_ROWS // 3 + 2


# --- the removal brake ---------------------------------------------------------------


def shrink_base(place: Place) -> None:
    """The base file loses all but two customers."""
    touch_later(place.source, base_csv(2))


def test_a_refresh_removing_too_many_rows_is_held(place: Place, merged: Path) -> None:
    """Past the brake the table and the refresh's exports keep the current rows."""
    shrink_base(place)
    with place.workspace() as workspace:
        report = run_refresh(workspace)
        germany = workspace.segments.count("Germany")
    (source,) = report.sources
    assert (source.outcome, source.rows, source.held_rows, source.removed) == (
        "held",
        BASE_ROWS + 1,
        3,
        BASE_ROWS - 2,
    )
    assert rows(place) == BASE_ROWS + 1
    assert germany == BASE_ROWS // 3 + 1  # counted on the unchanged table
    assert [(e.name, e.status) for e in report.exports] == [("Newsletter", "Succeeded")]
    assert report.ok


def test_a_held_refresh_is_audited_and_notified_once(
    place: Place,
    merged: Path,
    hook: Hook,  # noqa: F811 - the fixture imported above
) -> None:
    """One audit event and one webhook notice, however often the refresh runs."""
    place.settings = place.settings.model_copy(
        update={"notify_webhook_url": SecretStr(hook.url)}
    )
    shrink_base(place)
    for _ in range(2):
        with place.workspace() as workspace:
            assert run_refresh(workspace).sources[0].outcome == "held"
    (held,) = place.audit("profiles.refresh_held")
    assert (held.details["removed"], held.details["rows_after"]) == (BASE_ROWS - 2, 3)
    (notice,) = hook.bodies
    assert {key: notice[key] for key in ("event", "table", "rows", "removed")} == {
        "event": "refresh.held",
        "table": "customers",
        "rows": BASE_ROWS + 1,
        "removed": BASE_ROWS - 2,
    }
    (notified,) = place.audit("profiles.notify_held")
    assert (notified.target, notified.details["webhook"]) == ("customers", "sent")


def test_approve_puts_the_held_content_in_place_as_held(
    place: Place, merged: Path
) -> None:
    """Files that changed again since the hold do not change what is applied."""
    shrink_base(place)
    with place.workspace() as workspace:
        run_refresh(workspace)
    touch_later(place.source, base_csv(10))  # changed again: not what was held
    with place.workspace() as workspace:
        hold = workspace.profiles.approve_refresh("customers")
    assert (hold.new_rows, rows(place)) == (3, 3)
    assert [e.details["removed"] for e in place.audit("profiles.refresh_approved")] == [
        BASE_ROWS - 2
    ]
    with place.workspace() as workspace, pytest.raises(NotFoundError):
        workspace.profiles.approve_refresh("customers")  # the hold is gone


def test_discard_keeps_the_table_as_it_is(place: Place, merged: Path) -> None:
    """A discarded hold leaves every row; it is audited."""
    shrink_base(place)
    with place.workspace() as workspace:
        run_refresh(workspace)
        hold = workspace.profiles.discard_refresh("customers")
    assert (hold.rows, rows(place)) == (BASE_ROWS + 1, BASE_ROWS + 1)
    assert len(place.audit("profiles.refresh_discarded")) == 1


@pytest.mark.parametrize("user", ["cora", "vic"], ids=["contributor", "viewer"])
@pytest.mark.parametrize("action", ["approve_refresh", "discard_refresh"])
def test_only_an_administrator_decides_a_held_refresh(
    place: Place, merged: Path, user: str, action: str
) -> None:
    """Contributors and viewers are refused; the hold stays."""
    shrink_base(place)
    with place.workspace() as workspace:
        run_refresh(workspace)
    with (
        place.workspace(user) as workspace,
        pytest.raises(AccessDeniedError, match="cannot approve or discard held"),
    ):
        getattr(workspace.profiles, action)("customers")
    with place.workspace() as workspace:
        assert workspace.profiles.approve_refresh("customers").new_rows == 3


def test_a_hold_is_not_applied_over_a_later_import(place: Place, merged: Path) -> None:
    """An import after the hold makes approving it refused, not silently undone."""
    shrink_base(place)
    with place.workspace() as workspace:
        run_refresh(workspace)
        workspace.profiles.import_file(merged, table="customers")
        with pytest.raises(ConflictError, match="changed since its refresh was held"):
            workspace.profiles.approve_refresh("customers")
    assert rows(place) == BASE_ROWS + 1


def test_discard_after_a_later_import_does_not_print_a_stale_row_count(
    place: Place, merged: Path, tmp_path: Path
) -> None:
    """Discarding a hold the table outgrew does not claim the rows it had then."""
    shrink_base(place)
    extra = tmp_path / "extra.csv"
    extra.write_text(HEADER + "Z1,z@example.com,FR\n", encoding="utf-8")
    with place.workspace() as workspace:
        run_refresh(workspace)
        workspace.profiles.import_file(extra, table="customers")
    result = invoke(place, "profiles", "discard", "customers")
    assert result.exit_code == 0, result.output
    assert f"{BASE_ROWS + 1:,} rows" not in result.stdout
    assert rows(place) == BASE_ROWS + 2


def test_a_brake_of_100_lets_every_refresh_through(place: Place, merged: Path) -> None:
    """AUDIENCESYNC_REFRESH_REMOVAL_BRAKE=100 never holds."""
    place.settings = place.settings.model_copy(update={"refresh_removal_brake": 100})
    shrink_base(place)
    with place.workspace() as workspace:
        (source,) = run_refresh(workspace).sources
    assert (source.outcome, rows(place)) == ("reimported", 3)


def test_the_refresh_command_says_a_table_is_held(place: Place, merged: Path) -> None:
    """The text report names the hold and how an administrator decides it."""
    shrink_base(place)
    result = invoke(place, "refresh")
    assert result.exit_code == 0, result.output
    assert (
        f"Table customers: refresh HELD, it would remove {BASE_ROWS - 2:,} of"
        f" {BASE_ROWS + 1:,} rows"
    ) in result.stdout
    assert "audiencesync profiles approve customers" in result.stdout


def test_profiles_approve_and_discard_on_the_command_line(
    place: Place, merged: Path
) -> None:
    """approve prints what it applied; a contributor gets exit 3; discard exits 2
    once there is nothing held."""
    shrink_base(place)
    invoke(place, "refresh")
    refused = invoke(place, "profiles", "approve", "customers", "--as", "cora")
    approved = invoke(place, "profiles", "approve", "customers", "--json")
    gone = invoke(place, "profiles", "discard", "customers")
    assert refused.exit_code == 3
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["rows_after"] == 3
    assert gone.exit_code == 2
    assert "has no refresh waiting for approval" in gone.stderr


def test_a_changed_appended_file_rebuilds_its_table_without_doubling_rows(
    place: Place, tmp_path: Path
) -> None:
    """An appended file cannot be re-applied onto itself: base plus appends again."""
    base, extra = tmp_path / "orders.csv", tmp_path / "more_orders.csv"
    base.write_text("customer_id,amount\nC1,10\nC2,20\n", encoding="utf-8")
    extra.write_text("customer_id,amount\nC1,5\n", encoding="utf-8")
    with place.workspace() as workspace:
        workspace.profiles.import_file(base, table="orders", key="customer_id")
        workspace.profiles.import_file(extra, table="orders")
    touch_later(extra, "customer_id,amount\nC1,5\nC3,7\n")
    with place.workspace() as workspace:
        report = run_refresh(workspace)
    outcomes = {s.table: (s.outcome, s.rows) for s in report.sources}
    assert outcomes["orders"] == ("reimported", 4)


@pytest.mark.parametrize("value", ["150", "-1", "abc"])
def test_a_bad_brake_setting_is_one_line_not_a_traceback(
    place: Place, value: str
) -> None:
    """AUDIENCESYNC_REFRESH_REMOVAL_BRAKE outside 0-100 exits 2 naming the setting."""
    env = {
        "AUDIENCESYNC_HOME": str(place.settings.home),
        "AUDIENCESYNC_REFRESH_REMOVAL_BRAKE": value,
    }
    result = CliRunner().invoke(app, ["refresh"], env=env)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "Error: The setting AUDIENCESYNC_REFRESH_REMOVAL_BRAKE is not valid:"
    )


def test_administrators_get_an_email_about_a_held_refresh(
    place: Place,
    merged: Path,
    mailbox: Mailbox,  # noqa: F811 - the fixture imported above
) -> None:
    """The held notice goes to every administrator with an address, by SMTP."""
    with place.workspace() as workspace:
        workspace.users.set_email("admin", "admin@example.org")
    place.settings = place.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port}
    )
    shrink_base(place)
    with place.workspace() as workspace:
        run_refresh(workspace)
    message = mailbox.message()
    assert message["Subject"] == (
        "audiencesync: refresh of table customers held for approval"
    )
    assert mailbox.envelopes[0].rcpt_tos == ["admin@example.org"]


def test_a_fixed_source_file_supersedes_the_hold(place: Place, merged: Path) -> None:
    """The file put right: the next refresh applies it and the hold is gone."""
    shrink_base(place)
    with place.workspace() as workspace:
        run_refresh(workspace)
    touch_later(place.source, base_csv(BASE_ROWS))
    with place.workspace() as workspace:
        (source,) = run_refresh(workspace).sources
        assert (source.outcome, source.rows) == ("reimported", BASE_ROWS + 1)
        with pytest.raises(NotFoundError):
            workspace.profiles.discard_refresh("customers")
