"""What the sync engine needs to call Iterable for one export.

The connection service decrypts the key and hands it in; the engine never reads
connections itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from audiencesync.iterable import ApiKey, Region


@dataclass(frozen=True, slots=True)
class ExportCredentials:
    """What the sync engine needs to call Iterable; the key's repr is masked."""

    api_key: ApiKey
    region: Region
    base_url: str | None
