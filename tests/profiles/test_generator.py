"""The sample generator: realistic, deterministic, fast enough to be everywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from audiencesync.errors import ConfigError, ConflictError
from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.duckdb_engine import DuckDBEngine
from audiencesync.profiles.generator import generate_profiles, write_profiles
from audiencesync.profiles.importing import import_file
from audiencesync.profiles.tables import read_table_info
from tests.profiles.conftest import digest

ANCHOR = dt.date(2025, 6, 1)
CUSTOMER_KINDS = {
    "customer_id": ColumnKind.TEXT,
    "first_name": ColumnKind.TEXT,
    "last_name": ColumnKind.TEXT,
    "email": ColumnKind.TEXT,
    "country": ColumnKind.TEXT,
    "city": ColumnKind.TEXT,
    "lifetime_value": ColumnKind.NUMBER,
    "signup_date": ColumnKind.DATE,
    "last_purchase_date": ColumnKind.DATE,
    "marketing_consent": ColumnKind.BOOLEAN,
    "loyalty_tier": ColumnKind.TEXT,
}
PURCHASE_KINDS = {
    "customer_id": ColumnKind.TEXT,
    "purchased_at": ColumnKind.TIMESTAMP,
    "amount": ColumnKind.NUMBER,
    "category": ColumnKind.TEXT,
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 customers and their purchases, made once for the module."""
    folder = tmp_path_factory.mktemp("sample") / "profiles"
    generate_profiles(folder, count=20_000, seed=3, anchor=ANCHOR)
    return folder


def _scalar(folder: Path, sql: str) -> float:
    customers = f"read_parquet('{folder / 'customers.parquet'}')"
    purchases = f"read_parquet('{folder / 'purchases.parquet'}')"
    with duckdb.connect() as connection:
        query = sql.format(customers=customers, purchases=purchases)
        return float(connection.execute(query).fetchall()[0][0])


def test_same_count_and_seed_give_identical_files(tmp_path: Path) -> None:
    """Two runs write byte-identical customers and purchases files."""
    first = generate_profiles(tmp_path / "a", count=2_000, seed=5, anchor=ANCHOR)
    second = generate_profiles(tmp_path / "b", count=2_000, seed=5, anchor=ANCHOR)
    assert [digest(f.path) for f in first.files] == [
        digest(f.path) for f in second.files
    ]


def test_another_seed_gives_other_profiles(tmp_path: Path) -> None:
    """The seed changes the sample."""
    first = generate_profiles(tmp_path / "a", count=500, seed=1, anchor=ANCHOR)
    second = generate_profiles(tmp_path / "b", count=500, seed=2, anchor=ANCHOR)
    assert digest(first.files[0].path) != digest(second.files[0].path)


def test_report_lists_both_tables_with_their_rows(sample: Path) -> None:
    """Customers have exactly ``count`` rows; purchases are about two each."""
    customers = read_table_info(sample, "customers")
    purchases = read_table_info(sample, "purchases")
    assert customers.rows == 20_000
    assert 1.7 <= purchases.rows / customers.rows <= 2.5
    assert (customers.key, purchases.key) == ("customer_id", "customer_id")


@pytest.mark.parametrize(
    ("table", "kinds"),
    [("customers", CUSTOMER_KINDS), ("purchases", PURCHASE_KINDS)],
    ids=["customers", "purchases"],
)
def test_columns_have_the_documented_kinds(
    sample: Path, table: str, kinds: dict[str, ColumnKind]
) -> None:
    """Each generated column has its documented kind, in order."""
    with DuckDBEngine(sample) as engine:
        found = engine.catalog().table(table)
    assert found is not None
    assert {column.name: column.kind for column in found.columns} == kinds


@pytest.mark.parametrize(
    ("measure", "low", "high"),
    [
        (
            "count(*) FILTER (WHERE email NOT LIKE '%@%' OR trim(email) LIKE '% %'"
            " OR email LIKE '%..%') / count(*)",
            0.005,
            0.015,
        ),
        (
            "1 - count(DISTINCT lower(trim(email))) / count(*)",
            0.003,
            0.008,
        ),
        (
            "count(*) FILTER (WHERE email <> lower(trim(email))) / count(*)",
            0.015,
            0.035,
        ),
        ("avg(CAST(marketing_consent AS INTEGER))", 0.77, 0.83),
        ("count(*) FILTER (WHERE last_purchase_date IS NULL) / count(*)", 0.13, 0.17),
        ("count(*) FILTER (WHERE country = 'US') / count(*)", 0.31, 0.37),
        ("count(*) FILTER (WHERE loyalty_tier = 'platinum') / count(*)", 0.03, 0.05),
        ("count(*) FILTER (WHERE city IS NULL) / count(*)", 0.04, 0.06),
        ("median(lifetime_value) FILTER (WHERE lifetime_value > 0)", 80, 125),
        (
            "count(*) FILTER (WHERE lifetime_value > 1000)"
            " / count(*) FILTER (WHERE lifetime_value > 0)",
            0.03,
            0.05,
        ),
        ("corr(lifetime_value, CAST(marketing_consent AS INTEGER))", -0.03, 0.03),
    ],
    ids=[
        "malformed emails about 1 percent",
        "duplicate emails about half a percent",
        "capitals or spaces about 2 percent",
        "consent about 80 percent",
        "no purchase about 15 percent",
        "US about a third",
        "platinum about 4 percent",
        "city missing about 5 percent",
        "lifetime value median",
        "lifetime value over 1000 about 4 percent of buyers",
        "independent draws",
    ],
)
def test_shares_are_realistic(
    sample: Path, measure: str, low: float, high: float
) -> None:
    """Defects and distributions fall within their documented bounds."""
    query = f"SELECT {measure} FROM {{customers}}"  # noqa: S608 - fixed test measures
    assert low <= _scalar(sample, query) <= high


def test_dates_lead_up_to_the_anchor(sample: Path) -> None:
    """Signups span six years before the anchor; many purchased in the last 30 days."""
    oldest = _scalar(
        sample, "SELECT DATE '2025-06-01' - min(signup_date) FROM {customers}"
    )
    latest = _scalar(
        sample, "SELECT DATE '2025-06-01' - max(last_purchase_date) FROM {customers}"
    )
    recent = _scalar(
        sample,
        "SELECT count(*) FROM {customers}"
        " WHERE last_purchase_date >= DATE '2025-06-01' - 30",
    )
    assert (oldest <= 6 * 365, latest >= 0, recent > 1_000) == (True, True, True)


def test_latest_purchase_matches_last_purchase_date(sample: Path) -> None:
    """Each customer's newest purchase falls on their last_purchase_date."""
    mismatches = _scalar(
        sample,
        "SELECT count(*) FROM {customers} AS c FULL JOIN (SELECT customer_id,"
        " CAST(max(purchased_at) AS DATE) AS day FROM {purchases} GROUP BY 1) AS p"
        " USING (customer_id) WHERE c.last_purchase_date IS DISTINCT FROM p.day",
    )
    assert mismatches == 0


def test_no_purchases_writes_customers_only(tmp_path: Path) -> None:
    """--no-purchases skips the purchases table."""
    report = generate_profiles(tmp_path, count=10, anchor=ANCHOR, purchases=False)
    assert [file.table for file in report.files] == ["customers"]


def test_generate_replaces_an_earlier_sample(tmp_path: Path) -> None:
    """A second generation overwrites the first one's tables."""
    generate_profiles(tmp_path, count=10, anchor=ANCHOR)
    report = generate_profiles(tmp_path, count=20, anchor=ANCHOR)
    assert report.files[0].rows == 20


def test_generate_refuses_to_replace_imported_profiles(
    populated: Path,
) -> None:
    """Imported data is never overwritten by a sample."""
    with pytest.raises(ConflictError) as raised:
        generate_profiles(populated, count=10, anchor=ANCHOR)
    assert str(raised.value) == (
        "Table customers holds imported data, which generate would replace. Move"
        f" {populated / 'customers.parquet'} away first, or write the sample to a"
        " file instead."
    )


@pytest.mark.parametrize(
    "suffix", [".csv", ".parquet", ".jsonl"], ids=["csv", "parquet", "jsonl"]
)
def test_out_file_imports_back_with_the_same_kinds(
    tmp_path: Path, store: Path, suffix: str
) -> None:
    """A sample written with --out is a valid import file of any format."""
    out = tmp_path / f"sample{suffix}"
    write_profiles(out, count=300, seed=1, anchor=ANCHOR)
    report = import_file(store, out)
    with DuckDBEngine(store) as engine:
        table = engine.catalog().profile
    assert report.rows == 300
    assert table is not None
    assert {column.name: column.kind for column in table.columns} == CUSTOMER_KINDS


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"count": 0}, "The profile count 0 is out of range; use 1 to 99,999,999."),
        (
            {"count": 10, "seed": -1},
            "The seed -1 is out of range; use 0 to 9223372036854775807.",
        ),
    ],
    ids=["count zero", "negative seed"],
)
def test_bad_count_or_seed_is_refused(
    tmp_path: Path, options: dict[str, int], message: str
) -> None:
    """Count and seed are checked before anything is written."""
    with pytest.raises(ConfigError) as raised:
        generate_profiles(
            tmp_path, anchor=ANCHOR, count=options["count"], seed=options.get("seed", 0)
        )
    assert str(raised.value) == message


def test_out_with_unknown_extension_is_refused(tmp_path: Path) -> None:
    """--out takes the import formats only."""
    with pytest.raises(ConfigError) as raised:
        write_profiles(tmp_path / "sample.xlsx", count=5)
    assert str(raised.value) == (
        "The output file sample.xlsx has an unknown file type .xlsx; use a .csv,"
        " .parquet, .jsonl or .ndjson file."
    )
