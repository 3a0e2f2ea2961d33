"""One typed settings object, read once at the edge and passed down.

Every setting comes from a command-line flag, an ``AUDIENCESYNC_*`` environment
variable or a ``.env`` file in the working directory, in that order of precedence.
Nothing here is read at import time: the CLI (and later the web app factory) calls
:func:`load_settings` and hands the result to the services.

=====================  =========================================================
setting                meaning
=====================  =========================================================
``home``               the data folder (database, secret key, profile files)
``database_url``       control-plane database; default SQLite in ``home``
``profiles_url``       external profile engine (SQLAlchemy URL); default: the
                       embedded DuckDB over Parquet files in ``home/profiles``
``profile_table``      the profile table's name (default ``customers``)
``profile_key``        the profile table's key column for an external engine
``profiles_timeout``   seconds one segment query may run on an external
                       PostgreSQL engine before it is stopped (default 600;
                       0: audiencesync sets no limit)
``secret_key``         Fernet key for API keys at rest (else ``secret_key_file``)
``secret_key_file``    where ``init`` writes that key (mode 0600)
``user``               the acting user (``--as``)
``smtp_host``          SMTP server for failed-run e-mails (unset: no e-mail)
``smtp_port``          its port (default 25)
``smtp_from``          the sender address of those e-mails
``smtp_username``      SMTP login (optional; with ``smtp_password``)
``smtp_password``      SMTP password (a secret: never shown or logged)
``smtp_starttls``      upgrade the SMTP connection with STARTTLS (default off)
``notify_webhook_url`` URL that gets a JSON POST per failed run (a secret: often
                       carries a token; never shown or logged)
``refresh_removal_brake`` percent of a table's rows a refresh may remove before it
                       is held for an administrator's approval (default 20)
``retention_days``     days a finished run's report files (invalid and rejected
                       rows) are kept before they are removed (default 30)
``run_data``           where runs keep their files (sync states, plans), if not
                       in ``home``: a folder every instance mounts at the same
                       path, so any instance resumes any run (docs/deployment.md)
=====================  =========================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from audiencesync.errors import ConfigError

DEFAULT_HOME = Path(".audiencesync")
DEFAULT_PROFILE_TABLE = "customers"
DATABASE_FILE = "audiencesync.db"
SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
PROFILES_FOLDER = "profiles"
DEFAULT_SMTP_PORT = 25
DEFAULT_REFRESH_REMOVAL_BRAKE = 20.0
DEFAULT_RETENTION_DAYS = 30
DEFAULT_SEGMENTS_AT_ONCE = 4  # an export's segments in progress at once (1: in turn)
DEFAULT_PROFILES_TIMEOUT = 600.0


class Settings(BaseSettings):
    """Everything audiencesync needs to know about where things live."""

    model_config = SettingsConfigDict(
        env_prefix="AUDIENCESYNC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    home: Path = DEFAULT_HOME
    database_url: str | None = None
    profiles_url: str | None = None
    profile_table: str = DEFAULT_PROFILE_TABLE
    profile_key: str | None = None
    profiles_timeout: float = Field(default=DEFAULT_PROFILES_TIMEOUT, ge=0)
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    user: str | None = None
    smtp_host: str | None = None
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_from: str | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    notify_webhook_url: SecretStr | None = None
    refresh_removal_brake: float = Field(
        default=DEFAULT_REFRESH_REMOVAL_BRAKE, ge=0, le=100
    )
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=0, le=36_500)
    segments_at_once: int = Field(default=DEFAULT_SEGMENTS_AT_ONCE, ge=1, le=16)
    run_data: Path | None = None

    @property
    def database(self) -> str:
        """The control-plane SQLAlchemy URL (SQLite in the data folder by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / DATABASE_FILE).resolve()}"

    @property
    def run_files(self) -> Path:
        """The folder holding ``sync/`` (states and run plans): ``run_data`` or home."""
        return self.run_data or self.home

    @property
    def profiles_folder(self) -> Path:
        """Where the embedded engine keeps one Parquet file per table."""
        return self.home / PROFILES_FOLDER

    @property
    def key_file(self) -> Path:
        """The Fernet key file (outside the database)."""
        return self.secret_key_file or self.home / SECRET_KEY_FILE


def load_settings(**overrides: Any) -> Settings:
    """Settings from flags (``None`` means "not given"), then env, then .env."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(_invalid(exc)) from None


def _invalid(error: ValidationError) -> str:
    """One line naming the setting and the rule; never the value (it may be secret)."""
    first = error.errors()[0]
    name = "_".join(str(part) for part in first["loc"]).upper()
    return (
        f"The setting AUDIENCESYNC_{name} is not valid: {first['msg']}. Fix it in"
        " the environment or the .env file."
    )
