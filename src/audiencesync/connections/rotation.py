"""``connections rotate-keys``: re-encrypt every stored API key under a new key.

With a key file, each step leaves every readable key readable, so a crash at any
point loses nothing and the command can simply be run again:

1. under a lock, read the key file and write it back as ``NEW`` + the old keys
   (atomic replace, mode 0600);
2. in one transaction, re-encrypt each connection's key under ``NEW``
   (MultiFernet.rotate). A token that no key can read is reported as broken and
   left as it is; the others rotate;
3. write the key file with ``NEW`` alone.

Step 3 drops the old keys even when some connection is broken: a token that
none of the keys could read in step 2 is not made readable by keeping them, so
keeping them would only widen what a leaked key file exposes. Broken
connections need their API key entered again (``connections set-key``).

Keys held in ``AUDIENCESYNC_SECRET_KEY`` cannot be rewritten by audiencesync: the
administrator puts ``NEW,OLD`` there, runs ``rotate-keys`` (which re-encrypts
everything under the first key), then sets the variable to ``NEW`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.auth.audit import record_event
from audiencesync.core.secrets import (
    ENV_VARIABLE,
    KeyRing,
    SecretUnreadableError,
    key_file_lock,
    read_key_file,
)
from audiencesync.errors import ConfigError
from audiencesync.store.destinations import Connection

if TYPE_CHECKING:
    from audiencesync.auth.roles import Actor
    from audiencesync.store.database import Database

NEW_KEY_COMMAND = (
    'python -c "from cryptography.fernet import Fernet;'
    ' print(Fernet.generate_key().decode())"'
)


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a rotation did.

    ``key_file`` is the rewritten file, or ``None`` when the keys are in
    ``AUDIENCESYNC_SECRET_KEY`` (whose older keys the administrator now drops).
    """

    rotated: tuple[str, ...]
    broken: tuple[str, ...]
    key_file: Path | None


def rotate_keys(
    database: Database, keyring: KeyRing, actor: Actor
) -> tuple[RotationReport, KeyRing]:
    """Re-encrypt every connection's API key under a new key (see module doc).

    Returns the report and the ring to use from now on.
    """
    path = keyring.key_file
    if path is None:
        _require_new_env_key(keyring)
        return _reencrypt(database, keyring, actor, key_file=None), keyring
    with key_file_lock(path):
        ring = KeyRing(read_key_file(path), key_file=path).with_new_key()
        ring.save()
        report = _reencrypt(database, ring, actor, key_file=path)
        final = ring.newest_only()
        final.save()
    return report, final


def _require_new_env_key(keyring: KeyRing) -> None:
    if keyring.key_count >= 2:
        return
    msg = (
        f"The secret key comes from {ENV_VARIABLE}, which audiencesync cannot"
        f" change. To rotate it: make a new key ({NEW_KEY_COMMAND}), set"
        f" {ENV_VARIABLE}=NEW,OLD (new key first), rotate the connections' keys,"
        f" then set {ENV_VARIABLE}=NEW alone."
    )
    raise ConfigError(msg, code="env_key_rotation")


def _reencrypt(
    database: Database, ring: KeyRing, actor: Actor, *, key_file: Path | None
) -> RotationReport:
    rotated: list[str] = []
    broken: list[str] = []
    with database.session() as session:
        for row in session.scalars(select(Connection).order_by(Connection.name_key)):
            what = f"the API key of connection {row.name!r}"
            try:
                row.api_key_token = ring.rotate(row.api_key_token, what=what)
            except SecretUnreadableError:
                broken.append(row.name)
            else:
                rotated.append(row.name)
        record_event(
            session,
            actor,
            "connection.rotate_keys",
            target_type="secret_key",
            target=str(key_file) if key_file is not None else ENV_VARIABLE,
            details={"rotated": len(rotated), "broken": broken},
        )
    return RotationReport(tuple(rotated), tuple(broken), key_file)
