"""Secrets at rest: the Fernet key ring that encrypts connections' API keys.

The keys live outside the database: in ``AUDIENCESYNC_SECRET_KEY`` (several keys
separated by commas, newest first) or else in the key file ``init`` writes (one
key per line, newest first, mode 0600). The newest key encrypts; every key may
decrypt (:class:`cryptography.fernet.MultiFernet`), which is what makes rotation
possible without downtime.

No message, repr or log line here ever shows a key or a token.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from audiencesync.errors import ConfigError, FatalError

if TYPE_CHECKING:
    from audiencesync.settings import Settings

KEY_FILE_MODE = 0o600
ENV_VARIABLE = "AUDIENCESYNC_SECRET_KEY"
_KEY_FORMAT = "32 url-safe base64-encoded bytes"


class SecretUnreadableError(FatalError):
    """Raised when a stored token cannot be decrypted with any key of the ring."""


class KeyRing:
    """Fernet keys, newest first: the first encrypts, any of them decrypts.

    ``key_file`` is where the keys came from and where rotation writes them;
    ``None`` means they came from ``AUDIENCESYNC_SECRET_KEY`` (or a test), which
    audiencesync cannot rewrite.
    """

    __slots__ = ("_fernet", "_keys", "key_file")

    def __init__(self, keys: Sequence[bytes], *, key_file: Path | None = None) -> None:
        if not keys:
            msg = "A key ring needs at least one key."
            raise ConfigError(msg)
        self._keys = tuple(keys)
        self._fernet = MultiFernet([Fernet(key) for key in self._keys])
        self.key_file = key_file

    def __repr__(self) -> str:
        origin = self.key_file or ENV_VARIABLE
        return f"KeyRing({len(self._keys)} key(s) from {origin})"

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """The ring from ``AUDIENCESYNC_SECRET_KEY``, else from the key file."""
        if settings.secret_key is not None:
            text = settings.secret_key.get_secret_value()
            return cls(parse_keys(text.split(","), source=ENV_VARIABLE))
        return cls(read_key_file(settings.key_file), key_file=settings.key_file)

    @property
    def key_count(self) -> int:
        """How many keys the ring holds (more than one during a rotation)."""
        return len(self._keys)

    def encrypt(self, text: str) -> str:
        """``text`` encrypted under the newest key, as Fernet token text."""
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str, *, what: str = "a stored secret") -> str:
        """The text of ``token``; SecretUnreadableError (naming ``what``) if none can.

        ``what`` names the owner in the message, e.g. "the API key of connection
        'Marketing'"; the token itself is never shown.
        """
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadableError(unreadable_message(what)) from exc

    def rotate(self, token: str, *, what: str = "a stored secret") -> str:
        """``token`` re-encrypted under the newest key (readable by any key)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadableError(unreadable_message(what)) from exc

    def reloaded(self) -> KeyRing:
        """The ring as the key file holds it now (itself for environment keys).

        A long-running process calls this before encrypting, and after a failed
        decryption, so a rotation made by another process is picked up.
        """
        if self.key_file is None:
            return self
        return KeyRing(read_key_file(self.key_file), key_file=self.key_file)

    def with_new_key(self) -> KeyRing:
        """A ring with a freshly generated key in front of these ones."""
        return KeyRing((Fernet.generate_key(), *self._keys), key_file=self.key_file)

    def newest_only(self) -> KeyRing:
        """A ring holding only the newest key."""
        return KeyRing(self._keys[:1], key_file=self.key_file)

    def save(self) -> None:
        """Write the keys to the key file, atomically, mode 0600."""
        if self.key_file is None:
            msg = f"Keys from {ENV_VARIABLE} cannot be written by audiencesync."
            raise ConfigError(msg)
        write_key_file(self.key_file, self._keys)


def unreadable_message(what: str) -> str:
    """Why ``what`` cannot be read, and that the key ring is the place to look."""
    return (
        f"Cannot decrypt {what} with the current secret key: the stored value is"
        " damaged, or it was encrypted under a key that is no longer in the key"
        f" file or {ENV_VARIABLE}."
    )


def parse_keys(lines: Sequence[str], *, source: str) -> list[bytes]:
    """The Fernet keys among ``lines`` (blank ones skipped), checked, newest first."""
    keys = [line.strip().encode("ascii", "replace") for line in lines if line.strip()]
    if not keys:
        msg = (
            f"{source} holds no key. Restore it from your backup (a new key cannot"
            " read stored API keys); if no connection exists yet, delete it and"
            " initialise the data folder again to create one."
        )
        raise ConfigError(msg, code="secret_key_empty")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            msg = (
                f"Key {position} of {source} is not a valid key ({_KEY_FORMAT})."
                " Restore it from your backup; a new key cannot read stored API keys."
            )
            raise ConfigError(msg) from exc
    return keys


def read_key_file(path: Path) -> list[bytes]:
    """The keys in ``path``; ConfigError if it is missing, open to others or bad."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError as exc:
        msg = (
            f"No secret key file at {path}. Initialise the data folder to create"
            f" it, or set {ENV_VARIABLE}."
        )
        raise ConfigError(msg, code="secret_key_missing") from exc
    if mode & 0o077:
        msg = (
            f"The secret key file {path} is readable by others (mode {mode:04o})."
            f" Run `chmod 600 {path}` and try again."
        )
        raise ConfigError(msg)
    text = path.read_text(encoding="ascii", errors="replace")
    return parse_keys(text.splitlines(), source=f"The secret key file {path}")


def write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Replace ``path`` with ``keys`` (one per line): never half-written, 0600."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), KEY_FILE_MODE)
        file.write(b"".join(key + b"\n" for key in keys))
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def key_file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``path`` so two rotations cannot interleave."""
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, KEY_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
