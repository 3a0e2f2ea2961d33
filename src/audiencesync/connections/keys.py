"""The connections' API keys at rest: encrypted with the current key ring.

The ring is re-read from the key file before each encryption and after a failed
decryption, so a process started before ``connections rotate-keys`` (a running
``serve``) keeps reading the rotated keys and never encrypts under a key that
rotation has dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audiencesync.connections.rotation import RotationReport, rotate_keys
from audiencesync.core.secrets import SecretUnreadableError

if TYPE_CHECKING:
    from audiencesync.auth.roles import Actor
    from audiencesync.core.secrets import KeyRing
    from audiencesync.store.database import Database
    from audiencesync.store.destinations import Connection


class StoredKeys:
    """Encrypts keys for storage and decrypts connections' stored keys."""

    def __init__(self, keyring: KeyRing) -> None:
        self._ring = keyring

    def encrypt(self, api_key: str) -> str:
        """``api_key`` encrypted under the newest key of the current ring."""
        self._ring = self._ring.reloaded()
        return self._ring.encrypt(api_key)

    def decrypt(self, row: Connection) -> str:
        """The connection's key; SecretUnreadableError naming it and the fix."""
        what = f"the API key of connection {row.name!r}"
        try:
            return self._ring.decrypt(row.api_key_token, what=what)
        except SecretUnreadableError:
            self._ring = self._ring.reloaded()
        try:
            return self._ring.decrypt(row.api_key_token, what=what)
        except SecretUnreadableError as exc:
            msg = f"{exc} An administrator must enter it again."
            raise SecretUnreadableError(
                msg, code="api_key_unreadable", details={"connection": row.name}
            ) from exc

    def is_readable(self, row: Connection) -> bool:
        """Whether the connection's stored key can be decrypted."""
        try:
            self.decrypt(row)
        except SecretUnreadableError:
            return False
        return True

    def rotate(self, database: Database, actor: Actor) -> RotationReport:
        """Re-encrypt every connection's key under a new secret key."""
        report, self._ring = rotate_keys(database, self._ring, actor)
        return report
