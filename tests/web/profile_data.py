"""A few customers and purchases, and a segment, for the segments and profiles API."""

from __future__ import annotations

from pathlib import Path

from audiencesync.profiles.service import import_profiles
from audiencesync.settings import Settings
from tests.web.conftest import Api

CUSTOMERS = """customer_id,email,country,lifetime_value,signup_date
C1,ana@example.com,FR,1500.50,2026-01-10
C2,ben@example.com,FR,200,2025-05-01
C3,cleo@example.com,DE,3000,2026-02-01
C4,dan@example.com,,1200,2024-12-24
C5,eve@example.com,US,50,2026-03-03
"""
PURCHASES = """purchase_id,customer_id,amount
1,C1,20
2,C3,5
"""
FRANCE = "France"
FRANCE_WHERE = "country = 'FR'"


def load_profiles(settings: Settings, folder: Path) -> None:
    """Import the customers and their purchases into the data folder."""
    customers = folder / "customers.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, customers)
    purchases = folder / "purchases.csv"
    purchases.write_text(PURCHASES, encoding="utf-8")
    import_profiles(settings, purchases, table="purchases", key="customer_id")


def create_france(api: Api) -> dict[str, object]:
    """Create the segment France as the administrator; its view."""
    answer = api.client.post(
        "/api/v1/segments",
        json={"name": FRANCE, "where": FRANCE_WHERE},
        headers=api.auth("admin"),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body
