"""Fixtures for the profile store: a store folder and small input files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from audiencesync.profiles.importing import import_file

CUSTOMERS_CSV = """\
customer_id,email,lifetime_value,signup_date,marketing_consent,orders
C1,ann@example.com,12.5,2024-01-02,true,3
C2,bob@example.com,0.75,2024-02-03,false,1
C3,cy@example.com,100,2023-12-31,true,12
"""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty profile store folder (created by the first import)."""
    return tmp_path / "home" / "profiles"


@pytest.fixture
def customers_csv(tmp_path: Path) -> Path:
    """Three customers with text, double, date, boolean and integer columns."""
    return write(tmp_path / "customers.csv", CUSTOMERS_CSV)


@pytest.fixture
def populated(store: Path, customers_csv: Path) -> Path:
    """A store whose customers table holds the three customers."""
    import_file(store, customers_csv)
    return store


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    """The file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` other than table files and the lock."""
    return sorted(
        p.name for p in folder.iterdir() if p.suffix != ".parquet" and p.name != ".lock"
    )
