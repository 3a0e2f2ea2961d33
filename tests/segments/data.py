"""The hand-written profiles and purchases every segment test runs against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from audiencesync.profiles.catalog import Catalog, Column, ColumnKind, Table

TODAY = date(2026, 6, 15)


@dataclass(frozen=True, slots=True)
class Customer:
    """One profile row; ``avatar`` is an OTHER-kind (binary) column."""

    customer_id: str
    email: str | None = None
    country: str | None = None
    postcode: str | None = None
    lifetime_value: Decimal | None = None
    orders: int | None = None
    marketing_consent: bool | None = None
    birth_date: date | None = None
    last_seen_at: datetime | None = None
    avatar: bytes | None = None


@dataclass(frozen=True, slots=True)
class Purchase:
    """One purchase of a profile."""

    purchase_id: int
    customer_id: str
    purchased_at: date | None
    amount: Decimal | None
    channel: str | None


@dataclass(frozen=True, slots=True)
class Ticket:
    """One support ticket; its ``owner`` column holds the profile key."""

    ticket_id: int
    owner: str
    opened_at: datetime | None
    status: str | None


def _d(text: str) -> Decimal:
    return Decimal(text)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


C = Customer
CUSTOMERS: tuple[Customer, ...] = (
    C(
        "c01",
        "ana@example.com",
        "FR",
        "75001",
        _d("1000.00"),
        3,
        True,
        date(1990, 1, 1),
        _ts("2026-06-15 09:30:00"),
        b"\x89PNG",
    ),
    C(
        "c02",
        "BOB@EXAMPLE.COM",
        "fr",
        "75002",
        _d("1000.01"),
        0,
        False,
        date(1985, 6, 15),
        _ts("2026-06-14 23:59:59"),
    ),
    C(
        "c03",
        "carla@shop.fr",
        "Fr",
        "13001",
        _d("999.99"),
        1,
        None,
        None,
        _ts("2026-05-16 00:00:00"),
    ),
    C(
        "c04",
        None,
        "FR ",
        "69001",
        _d("1000.10"),
        -1,
        True,
        date(2000, 2, 29),
        _ts("2026-05-15 23:59:59"),
        b"",
    ),
    C("c05", "", "DE", "10115", _d("0.00"), None, False, date(1970, 1, 1)),
    C(
        "c06",
        "   ",
        " ",
        "80331",
        None,
        10,
        True,
        date(2026, 6, 15),
        _ts("2026-06-16 00:00:00"),
    ),
    C(
        "c07",
        "\t\n",
        "",
        "",
        _d("-5.50"),
        2,
        None,
        date(2026, 6, 16),
        _ts("2025-12-31 12:00:00"),
    ),
    C(
        "c08",
        "100%_off@deals.com",
        "GB",
        "SW1A",
        _d("250.00"),
        5,
        True,
        date(1999, 12, 31),
        _ts("2026-01-01 00:00:00"),
    ),
    C(
        "c09",
        "a_b@x.io",
        "gb",
        "EC1A",
        _d("1000000.00"),
        100,
        False,
        date(2000, 1, 1),
        _ts("2026-06-01 08:00:00"),
    ),
    C("c10", "a%b@x.io", None, None, _d("1.00"), 1, None, date(2026, 5, 16)),
    C(
        "c11",
        "o'brien@x.ie",
        "IE",
        "D02",
        _d("75.25"),
        4,
        True,
        date(2026, 5, 15),
        _ts("2026-06-15 23:59:59"),
    ),
    C(
        "c12",
        "élodie@exemple.fr",
        "FR",
        "75011",
        _d("12.00"),
        2,
        False,
        date(2026, 6, 14),
        _ts("2026-06-14 00:00:00"),
    ),
    C(
        "c13",
        "ÉLODIE@EXEMPLE.FR",
        "FR",
        "75012",
        _d("13.00"),
        2,
        None,
        date(1990, 1, 2),
        _ts("2024-02-29 12:00:00"),
    ),
    C(
        "c14",
        "back\\slash@x.com",
        "BE",
        "1000",
        _d("14.00"),
        0,
        True,
        date(1989, 12, 31),
        _ts("2026-05-17 12:00:00"),
    ),
    C(
        "c15",
        'double"quote@x.com',
        "NL",
        "1011",
        _d("15.00"),
        3,
        False,
        date(1991, 7, 14),
        None,
        b"\x00",
    ),
    C("c16", "'; DROP TABLE customers; --", "FR", "75013", _d("16.00"), 1, True),
    C("c17", "x' OR '1'='1", "US", "10001", _d("17.00"), 1, True),
    C("c18", "%", "US", "10002", _d("18.00"), 2, False),
    C("c19", "_", "US", "10003", _d("19.00"), 2, None),
    C(
        "c20",
        "  padded@example.com  ",
        "DE",
        "20095",
        _d("20.00"),
        6,
        True,
        date(1995, 5, 5),
        _ts("2026-06-10 10:00:00"),
    ),
    C(
        "c21",
        "ANA@example.com",
        "ES",
        "28001",
        _d("2500.00"),
        12,
        True,
        date(1980, 3, 3),
        _ts("2026-03-03 03:03:03"),
    ),
    C(
        "c22",
        "shop@example.co",
        "ES",
        "08001",
        _d("999.00"),
        7,
        False,
        date(1975, 8, 8),
        _ts("2026-06-13 13:13:13"),
    ),
    C(
        "c23",
        "zed@zz.com",
        "IT",
        "00100",
        _d("1000.00"),
        8,
        True,
        date(2001, 1, 1),
        _ts("2026-06-15 00:00:00"),
    ),
    C(
        "c24",
        "yan@yy.com",
        "IT",
        "20121",
        _d("-0.01"),
        0,
        False,
        None,
        _ts("2026-05-16 00:00:01"),
    ),
    C(
        "c25",
        "xi@xx.cn",
        "CN",
        "100000",
        _d("999999.99"),
        9,
        None,
        date(2026, 6, 1),
        None,
    ),
    C(
        "c26",
        "wu@ww.cn",
        "CN",
        "200000",
        _d("5.00"),
        5,
        True,
        date(2026, 1, 1),
        _ts("2026-02-28 23:59:59"),
    ),
    C(
        "c27",
        "vera@example.com",
        "PT",
        "1100",
        _d("0.01"),
        1,
        True,
        date(1960, 6, 15),
        _ts("2026-06-12 06:00:00"),
    ),
    C(
        "c28",
        "ursula@example.com",
        "AT",
        "1010",
        _d("1000"),
        2,
        False,
        date(1999, 1, 1),
        _ts("2026-05-20 20:00:00"),
    ),
    C(
        "c29",
        "tom@Example.Com",
        "PL",
        "00-001",
        _d("100.00"),
        100,
        True,
        date(2010, 10, 10),
        _ts("2026-06-11 11:11:11"),
    ),
    C(
        "c30",
        "sam@sample.org",
        "SE",
        "11120",
        _d("30.00"),
        30,
        None,
        date(2020, 2, 2),
        _ts("2026-04-04 04:04:04"),
    ),
    C("c31", "rita@r.dk", "DK", "1050", _d("31.00"), 3, True, date(1988, 8, 8)),
    C(
        "c32",
        "quinn@q.no",
        "NO",
        "0150",
        _d("32.00"),
        3,
        False,
        date(1977, 7, 7),
        _ts("2026-06-15 12:00:00"),
    ),
    C("c33", "pia@p.fi", "FI", "00100", _d("33.00"), 3, None, date(1966, 6, 6)),
    C(
        "c34",
        "olaf@o.is",
        "IS",
        "101",
        _d("34.00"),
        None,
        True,
        date(2026, 6, 15),
        _ts("2026-06-09 09:09:09"),
    ),
    C("c35", "nina@n.gr", "GR", "10431", _d("35.00"), 35, False),
    C("c36", None, None, None, None, None, None),
    C(
        "c37",
        "mia@m.ch",
        "CH",
        "8001",
        _d("37.00"),
        37,
        True,
        date(1999, 12, 31),
        _ts("2026-06-14 12:00:00"),
    ),
    C("c38", "leo@l.lu", "LU", "1009", _d("38.00"), 38, False, date(2026, 5, 17)),
    C(
        "c39",
        "kai@k.ee",
        "EE",
        "10111",
        _d("39.00"),
        39,
        True,
        date(1993, 3, 9),
        _ts("2026-06-15 23:00:00"),
    ),
    C(
        "c40",
        "jo@j.lv",
        "LV",
        "1050",
        _d("40.00"),
        40,
        None,
        date(2003, 4, 5),
        _ts("2023-01-01 00:00:00"),
    ),
)

P = Purchase
PURCHASES: tuple[Purchase, ...] = (
    P(1, "c01", date(2026, 6, 10), _d("150.00"), "web"),
    P(2, "c01", date(2025, 1, 1), _d("20.00"), "store"),
    P(3, "c02", date(2026, 5, 16), _d("100.00"), "web"),
    P(4, "c03", date(2026, 5, 15), _d("500.00"), "store"),
    P(5, "c04", None, _d("999.00"), None),
    P(6, "c08", date(2026, 6, 15), _d("100.01"), "app"),
    P(7, "c08", date(2026, 6, 1), None, "web"),
    P(8, "c09", date(2026, 6, 16), _d("300.00"), "web"),
    P(9, "c12", date(2026, 6, 14), _d("5.00"), "WEB"),
    P(10, "c21", date(2026, 6, 2), _d("1000.00"), "web"),
    P(11, "c21", date(2026, 6, 3), _d("2.00"), "store"),
    P(12, "c21", date(2026, 6, 4), _d("3.00"), "app"),
    P(13, "c36", date(2026, 6, 5), _d("101.00"), "web"),
    P(14, "zz-no-profile", date(2026, 6, 5), _d("900.00"), "web"),
)

T = Ticket
TICKETS: tuple[Ticket, ...] = (
    T(1, "c01", _ts("2026-06-10 10:00:00"), "open"),
    T(2, "c03", _ts("2026-06-11 10:00:00"), "closed"),
    T(3, "c21", _ts("2026-06-12 10:00:00"), "open"),
    T(4, "c08", None, None),
    T(5, "c02", _ts("2026-01-01 10:00:00"), "OPEN"),
)


def _col(name: str, kind: ColumnKind, sql_type: str) -> Column:
    return Column(name=name, kind=kind, sql_type=sql_type)


K = ColumnKind
CUSTOMERS_TABLE = Table(
    name="customers",
    key="customer_id",
    columns=(
        _col("customer_id", K.TEXT, "VARCHAR"),
        _col("email", K.TEXT, "VARCHAR"),
        _col("country", K.TEXT, "VARCHAR"),
        _col("postcode", K.TEXT, "VARCHAR"),
        _col("lifetime_value", K.NUMBER, "DECIMAL(12,2)"),
        _col("orders", K.INTEGER, "BIGINT"),
        _col("marketing_consent", K.BOOLEAN, "BOOLEAN"),
        _col("birth_date", K.DATE, "DATE"),
        _col("last_seen_at", K.TIMESTAMP, "TIMESTAMP"),
        _col("avatar", K.OTHER, "BLOB"),
    ),
)
PURCHASES_TABLE = Table(
    name="purchases",
    columns=(
        _col("purchase_id", K.INTEGER, "BIGINT"),
        _col("customer_id", K.TEXT, "VARCHAR"),
        _col("purchased_at", K.DATE, "DATE"),
        _col("amount", K.NUMBER, "DECIMAL(10,2)"),
        _col("channel", K.TEXT, "VARCHAR"),
    ),
)
TICKETS_TABLE = Table(
    name="tickets",
    key="owner",
    columns=(
        _col("ticket_id", K.INTEGER, "BIGINT"),
        _col("owner", K.TEXT, "VARCHAR"),
        _col("opened_at", K.TIMESTAMP, "TIMESTAMP"),
        _col("status", K.TEXT, "VARCHAR"),
    ),
)
# Only in the catalog, for validation: it has no column linking it to profiles.
EVENTS_TABLE = Table(
    name="events",
    columns=(_col("event_id", K.INTEGER, "BIGINT"), _col("name", K.TEXT, "VARCHAR")),
)

CATALOG = Catalog(
    tables=(CUSTOMERS_TABLE, PURCHASES_TABLE, TICKETS_TABLE, EVENTS_TABLE),
    profile_table="customers",
)
ALL_KEYS = frozenset(customer.customer_id for customer in CUSTOMERS)
