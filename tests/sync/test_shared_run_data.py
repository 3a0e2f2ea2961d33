"""Run files in a shared folder (``run_data``): any instance resumes any run.

Two data folders stand for two instances: they share the control-plane database,
the secret key and the run-data folder, as instances on several machines share a
PostgreSQL database and a mounted folder. (SQLite here; the PostgreSQL variant is
the two-instance test.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from audiencesync.app.home import initialize
from audiencesync.app.running import resume_run, run_files_folder
from audiencesync.app.workspace import open_workspace
from audiencesync.errors import ConfigError
from audiencesync.profiles.service import import_profiles
from audiencesync.settings import Settings, load_settings
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import CROWD, MANY, make_place


def _second_instance(first: Settings, tmp_path: Path, profiles: Path) -> Settings:
    """Another data folder on the same database, key and run-data folder."""
    second = load_settings(
        home=tmp_path / "second",
        database_url=first.database,
        secret_key=first.secret_key,
        run_data=first.run_data,
    )
    initialize(second)
    import_profiles(second, profiles)
    return second


def test_run_files_go_to_the_run_data_folder(tmp_path: Path) -> None:
    """With run_data set, states and plans are written there, not in the home."""
    shared = tmp_path / "shared"
    key = Fernet.generate_key().decode()
    with make_place(tmp_path, run_data=shared, secret_key=key) as place:
        place.run()
        home = place.settings.home
    names = sorted(p.name for p in (shared / "sync").iterdir())
    assert names == ["memo", "runs", "state"]
    assert list((shared / "sync" / "state").glob("*.parquet"))
    assert not (home / "sync").exists()


def test_another_instance_resumes_a_crashed_run(tmp_path: Path) -> None:
    """A run that died in one data folder is finished from another, sending the rest."""
    shared = tmp_path / "shared"
    key = Fernet.generate_key().decode()
    with make_place(tmp_path, profiles=CROWD, run_data=shared, secret_key=key) as place:
        place.crash_after_first_batch()
        place.emulator.reset_requests()
        second = _second_instance(place.settings, tmp_path, place.source)
        with open_workspace(second) as workspace:
            resumed = resume_run(workspace, 1)

        assert resumed.status is RunStatus.SUCCEEDED
        assert place.sent_items() == {"lists/subscribe": MANY - 1000}
        assert not (second.home / "sync").exists()


def test_a_run_data_path_that_is_no_folder_is_refused_before_a_run(
    tmp_path: Path,
) -> None:
    """A file given as run_data is a ConfigError naming the setting; no run starts."""
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    settings = load_settings(home=tmp_path / "home", run_data=blocked)
    with pytest.raises(ConfigError, match="AUDIENCESYNC_RUN_DATA") as raised:
        run_files_folder(settings)
    assert raised.value.code == "run_files_unusable"
