"""The key ring: where keys come from, what errors say, and the key file on disk."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from audiencesync.core.secrets import (
    KeyRing,
    SecretUnreadableError,
    read_key_file,
    write_key_file,
)
from audiencesync.errors import ConfigError
from audiencesync.settings import Settings

TEXT = "CanaryUsKey7Q2xW9vB4nM6pL1zR8tYu"


def new_key() -> bytes:
    """A fresh Fernet key."""
    return Fernet.generate_key()


def test_env_keys_come_first_newest_first(tmp_path: Path) -> None:
    """AUDIENCESYNC_SECRET_KEY "NEW,OLD": NEW encrypts, OLD still decrypts."""
    new, old = new_key(), new_key()
    settings = Settings(
        home=tmp_path, secret_key=SecretStr(f"{new.decode()}, {old.decode()}")
    )
    ring = KeyRing.from_settings(settings)
    assert (ring.key_count, ring.key_file) == (2, None)
    assert Fernet(new).decrypt(ring.encrypt(TEXT).encode()).decode() == TEXT
    assert ring.decrypt(Fernet(old).encrypt(TEXT.encode()).decode()) == TEXT


def test_key_file_is_read_when_the_env_is_unset(tmp_path: Path) -> None:
    """Without the variable, the key file (one key per line) is the ring."""
    path = tmp_path / "secret.key"
    write_key_file(path, [new_key(), new_key()])
    ring = KeyRing.from_settings(Settings(home=tmp_path))
    assert (ring.key_count, ring.key_file) == (2, path)


def test_a_missing_key_file_says_to_run_init(tmp_path: Path) -> None:
    """No key anywhere: the error names the file and says to initialise."""
    with pytest.raises(ConfigError, match="Initialise the data folder") as caught:
        KeyRing.from_settings(Settings(home=tmp_path))
    assert caught.value.code == "secret_key_missing"


def test_an_invalid_env_key_is_not_shown(tmp_path: Path) -> None:
    """A malformed key is refused without repeating it."""
    bad = "NotAFernetKeyButSecretAnyway123"
    settings = Settings(
        home=tmp_path, secret_key=SecretStr(f"{new_key().decode()},{bad}")
    )
    with pytest.raises(ConfigError, match="Key 2 of AUDIENCESYNC_SECRET_KEY") as caught:
        KeyRing.from_settings(settings)
    assert bad not in str(caught.value)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    """Mode 0644 is refused with the chmod that fixes it."""
    path = tmp_path / "secret.key"
    write_key_file(path, [new_key()])
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_key_file(path)


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    """A key file without keys is a clear error."""
    path = tmp_path / "secret.key"
    write_key_file(path, [])
    with pytest.raises(ConfigError, match="holds no key"):
        read_key_file(path)


def test_the_key_file_is_written_whole_with_mode_0600(tmp_path: Path) -> None:
    """One key per line, newest first, mode 0600, no temporary file left."""
    path, keys = tmp_path / "secret.key", [new_key(), new_key()]
    write_key_file(path, keys)
    assert path.read_bytes() == keys[0] + b"\n" + keys[1] + b"\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


def test_a_tampered_token_names_the_owner_not_the_token() -> None:
    """Decrypting a damaged token raises with ``what``, never the token."""
    ring = KeyRing([new_key()])
    token = ring.encrypt(TEXT)
    damaged = token[:-8] + "AAAAAAAA"
    with pytest.raises(SecretUnreadableError, match="connection 'X'") as caught:
        ring.decrypt(damaged, what="the API key of connection 'X'")
    assert damaged[:20] not in str(caught.value)


def test_a_token_of_another_key_is_unreadable() -> None:
    """A token encrypted under a key the ring lacks cannot be read."""
    token = KeyRing([new_key()]).encrypt(TEXT)
    with pytest.raises(SecretUnreadableError):
        KeyRing([new_key()]).decrypt(token)


def test_rotate_moves_a_token_to_the_newest_key() -> None:
    """After ``rotate`` the newest key alone reads the token."""
    old = KeyRing([new_key()])
    ring = old.with_new_key()
    rotated = ring.rotate(old.encrypt(TEXT))
    assert ring.newest_only().decrypt(rotated) == TEXT


def test_the_repr_shows_no_key() -> None:
    """The ring's repr tells where keys come from, not what they are."""
    key = new_key()
    assert key.decode() not in repr(KeyRing([key]))


def test_an_env_ring_cannot_be_saved() -> None:
    """Keys from the environment are never written anywhere."""
    with pytest.raises(ConfigError, match="cannot be written"):
        KeyRing([new_key()]).save()
