"""Realistic sample profiles, generated inside DuckDB, the same for the same seed.

``customers`` (key ``customer_id``):

====================  =========  ===============================================
column                type       values
====================  =========  ===============================================
customer_id           VARCHAR    ``C00000001``, ``C00000002``, ... (row order)
first_name            VARCHAR    common names of the countries below
last_name             VARCHAR    likewise, some with accents or apostrophes
email                 VARCHAR    from the names, the row number and a domain;
                                 1 % malformed (no ``@``, spaces, double dots),
                                 0.5 % copies of another row's email, 2 % with
                                 capitals or surrounding spaces
country               VARCHAR    ISO-2, weighted: US 34 %, GB 12 %, DE 10 %, ...
city                  VARCHAR    a city of the country; 5 % missing
lifetime_value        DOUBLE     log-normal, 2 decimals (median about 100, about 4 %
                                 over 1000); 0 for customers who never purchased
signup_date           DATE       uniform over the 6 years before the anchor
last_purchase_date    DATE       missing for 15 %; else between signup and the
                                 anchor, most of them recent
marketing_consent     BOOLEAN    true for about 80 %
loyalty_tier          VARCHAR    bronze 55 %, silver 28 %, gold 13 %, platinum 4 %
====================  =========  ===============================================

``purchases`` (key ``customer_id``, joins to ``customers``): ``customer_id``,
``purchased_at`` TIMESTAMP, ``amount`` DOUBLE, ``category`` VARCHAR; about 2 rows
per customer on average, none for customers without a last purchase, the latest
one on the customer's ``last_purchase_date``.

Every random draw hashes the row id with a (seed, salt) constant, inside one SQL
statement over ``range(count)``, so generation runs on all cores, and the same
count, seed and anchor give the same rows in the same order (and byte-identical
Parquet files). Dates are relative to ``anchor`` (default: today), so segments such as
"purchased in the last 30 days" have members whatever day the sample is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from audiencesync.errors import ConfigError, ConflictError
from audiencesync.profiles.duckdb_engine import connect_duckdb
from audiencesync.profiles.identifiers import check_table_name, quote_literal
from audiencesync.profiles.tables import (
    parquet_options,
    read_table_info,
    replacing,
    table_metadata,
    table_path,
    writer_lock,
)
from audiencesync.settings import DEFAULT_PROFILE_TABLE

MAX_COUNT = 99_999_999
MAX_SEED = 2**63 - 1
ROW_PART_SPAN = 32  # purchases per customer stay below this (least(29, ...) + 1)
PURCHASES_TABLE = "purchases"
KEY = "customer_id"
SIGNUP_DAYS = 6 * 365
OUT_FORMATS = {
    ".csv": "FORMAT csv, HEADER true",
    ".jsonl": "FORMAT json",
    ".ndjson": "FORMAT json",
}

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
    "William", "Elizabeth", "David", "Barbara", "Olivia", "Noah", "Emma", "Liam",
    "Oliver", "Amelia", "George", "Isla", "Harry", "Sophie", "Hugo", "Léa",
    "Chloé", "Louis", "Gabriel", "Jade", "Lukas", "Anna", "Jonas", "Marie",
    "Felix", "Hannah", "Pablo", "Lucía", "Mateo", "Sofía", "Marco", "Giulia",
    "Lorenzo", "Chiara", "Daan", "Sanne", "Lars", "Freya", "Aiden", "Zoë",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Taylor", "Wilson", "Evans", "Walker", "O'Brien", "Murphy", "Martin",
    "Bernard", "Dubois", "Lefèvre", "Moreau", "Müller", "Schmidt", "Schneider",
    "Fischer", "Weber", "López", "González", "Fernández", "Martínez", "Rossi",
    "Russo", "Ferrari", "Esposito", "de Vries", "Jansen", "Bakker", "Andersson",
    "Johansson", "Nguyen", "Kim", "Singh", "Patel", "Cohen", "Novak", "Kelly",
    "Thompson", "White", "Clarke", "Roberts",
)  # fmt: skip
DOMAINS = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
    "gmx.de", "orange.fr", "libero.it", "proton.me", "example.com",
)  # fmt: skip
COUNTRIES = {
    "US": 34, "GB": 12, "DE": 10, "FR": 9, "CA": 7, "ES": 6, "IT": 6, "NL": 5,
    "AU": 5, "SE": 2, "BE": 2, "IE": 2,
}  # fmt: skip
CITIES = {
    "US": ("New York", "Los Angeles", "Chicago", "Houston", "Seattle", "Boston"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow"),
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Lille"),
    "CA": ("Toronto", "Montréal", "Vancouver", "Calgary"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla"),
    "IT": ("Roma", "Milano", "Napoli", "Torino"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth"),
    "SE": ("Stockholm", "Göteborg", "Malmö"),
    "BE": ("Bruxelles", "Antwerpen", "Gent"),
    "IE": ("Dublin", "Cork", "Galway"),
}
TIERS = {"bronze": 55, "silver": 28, "gold": 13, "platinum": 4}
CATEGORIES = {
    "apparel": 30, "shoes": 15, "accessories": 15, "beauty": 12, "home": 10,
    "electronics": 8, "sports": 6, "books": 4,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One file written: the table it holds, where, and how many rows."""

    table: str
    path: Path
    rows: int


@dataclass(frozen=True, slots=True)
class GenerateReport:
    """What a generation made, and the inputs that reproduce it."""

    count: int
    seed: int
    anchor: date
    files: tuple[GeneratedFile, ...]


def generate_profiles(
    folder: Path,
    *,
    count: int,
    seed: int = 0,
    anchor: date | None = None,
    purchases: bool = True,
    profile_table: str = DEFAULT_PROFILE_TABLE,
) -> GenerateReport:
    """Write sample ``customers`` (and ``purchases``) tables into the store.

    Tables made by an earlier generation are replaced; a table holding imported
    data is not (:class:`ConflictError`).
    """
    _check_inputs(count, seed)
    check_table_name(profile_table)
    day = anchor or _today()
    tables = {profile_table: customers_sql(count, seed=seed, anchor=day)}
    if purchases:
        tables[PURCHASES_TABLE] = purchases_sql(count, seed=seed, anchor=day)
    generator = f"sample count={count} seed={seed} anchor={day.isoformat()}"
    metadata = table_metadata(key=KEY, generator=generator)
    files = []
    with writer_lock(folder), closing(connect_duckdb()) as connection:
        for name in tables:
            _refuse_imported(folder, name)
        for name, sql in tables.items():
            path = table_path(folder, name)
            _copy(connection, sql, path, parquet_options(metadata))
            files.append(GeneratedFile(name, path, read_table_info(folder, name).rows))
    return GenerateReport(count, seed, day, tuple(files))


def write_profiles(
    out: Path, *, count: int, seed: int = 0, anchor: date | None = None
) -> GenerateReport:
    """Write sample customers to ``out`` (.csv, .parquet, .jsonl or .ndjson)."""
    _check_inputs(count, seed)
    options = _out_options(out)
    if not out.parent.is_dir():
        msg = f"The output file's folder {out.parent} does not exist; create it first."
        raise ConfigError(msg, field="out")
    day = anchor or _today()
    with closing(connect_duckdb()) as connection:
        _copy(connection, customers_sql(count, seed=seed, anchor=day), out, options)
    return GenerateReport(count, seed, day, (GeneratedFile("customers", out, count),))


def customers_sql(count: int, *, seed: int, anchor: date) -> str:
    """The ``SELECT`` that yields ``count`` customers in row order."""
    draw = _Draw(seed)
    return f"""
        WITH base AS ({_base_sql(draw, count, anchor)})
        SELECT
            'C' || lpad(CAST(i + 1 AS VARCHAR), 8, '0') AS customer_id,
            {draw.pick(FIRST_NAMES, "i", 1)} AS first_name,
            {draw.pick(LAST_NAMES, "i", 2)} AS last_name,
            {_email_sql(draw, count)} AS email,
            country,
            {_city_sql(draw)} AS city,
            CASE WHEN last_purchase_date IS NULL THEN 0.0
                 ELSE round(exp(4.6 + 1.3 * {draw.normal("i", 7)}), 2)
            END AS lifetime_value,
            signup_date,
            last_purchase_date,
            {draw.uniform("i", 8)} < 0.8 AS marketing_consent,
            {draw.weighted(TIERS, "i", 9)} AS loyalty_tier
        FROM base
    """


def purchases_sql(count: int, *, seed: int, anchor: date) -> str:
    """The ``SELECT`` that yields the purchases of ``count`` customers."""
    draw = _Draw(seed)
    spread = f"least(29, floor(-ln(1 - {draw.uniform('i', 20)}) * 1.8))"
    day = (
        f"CASE WHEN k = 0 THEN last_purchase_date ELSE signup_date + CAST(floor("
        f"(last_purchase_date - signup_date) * {draw.uniform('i, k', 21)})"
        " AS INTEGER) END"
    )
    second = f"CAST(floor({draw.uniform('i, k', 22)} * 86400) AS INTEGER)"
    return f"""
        WITH base AS ({_base_sql(draw, count, anchor)}),
        expanded AS (
            SELECT i, signup_date, last_purchase_date,
                   unnest(range(CAST(1 + {spread} AS BIGINT))) AS k
            FROM base
            WHERE last_purchase_date IS NOT NULL
        )
        SELECT
            'C' || lpad(CAST(i + 1 AS VARCHAR), 8, '0') AS customer_id,
            CAST({day} AS TIMESTAMP) + to_seconds({second}) AS purchased_at,
            round(exp(3.6 + 0.7 * {draw.normal("i, k", 23)}), 2) AS amount,
            {draw.weighted(CATEGORIES, "i, k", 24)} AS category
        FROM expanded
    """


class _Draw:
    """SQL fragments for deterministic pseudo-random draws keyed by row and salt."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def hash(self, row: str, salt: int) -> str:
        """A UBIGINT hash of the row and a (seed, salt) constant.

        DuckDB's many-argument ``hash(a, b, c)`` combines weakly: draws that differ
        only in salt came out correlated (r = -0.9). Hashing the row id XOR one
        well-mixed constant per (seed, salt) gives independent draws.
        """
        first, *rest = _top_level_parts(row)
        key = f"CAST({first} AS BIGINT)"
        for part in rest:
            key = f"({key} * {ROW_PART_SPAN} + {part})"
        return f"hash(xor({key}, {_mix(self.seed, salt)}))"

    def uniform(self, row: str, salt: int) -> str:
        """A DOUBLE in [0, 1)."""
        return f"(CAST({self.hash(row, salt)} AS DOUBLE) / 18446744073709551616.0)"

    def normal(self, row: str, salt: int) -> str:
        """A standard normal draw (Box-Muller over two uniform draws)."""
        first = self.uniform(row, salt)
        second = self.uniform(row, salt + 1000)
        return f"(sqrt(-2 * ln(1 - {first})) * cos(2 * pi() * {second}))"

    def pick(self, values: Sequence[str], row: str, salt: int) -> str:
        """One of ``values``, each as likely."""
        listed = ", ".join(quote_literal(value) for value in values)
        index = f"CAST({self.hash(row, salt)} % {len(values)} AS BIGINT)"
        return f"[{listed}][1 + {index}]"

    def weighted(self, weights: Mapping[str, int], row: str, salt: int) -> str:
        """One of the keys, each with its weight (weights sum to 100 or so)."""
        expanded = [value for value, weight in weights.items() for _ in range(weight)]
        return self.pick(expanded, row, salt)


def _base_sql(draw: _Draw, count: int, anchor: date) -> str:
    """Row number, country and dates, shared by customers and purchases."""
    start = f"DATE '{anchor.isoformat()}'"
    signup = f"{start} - CAST(floor({draw.uniform('i', 4)} * {SIGNUP_DAYS}) AS INTEGER)"
    recent = f"(1 - pow({draw.uniform('i', 6)}, 2))"
    return f"""
        SELECT i, country, signup_date,
            CASE WHEN {draw.uniform("i", 5)} < 0.15 THEN NULL
                 ELSE signup_date + CAST(floor(({start} - signup_date) * {recent})
                      AS INTEGER)
            END AS last_purchase_date
        FROM (
            SELECT i, {draw.weighted(COUNTRIES, "i", 3)} AS country,
                   {signup} AS signup_date
            FROM range({count}) AS draws(i)
        )
    """


def _email_sql(draw: _Draw, count: int) -> str:
    """A valid address for most rows, and the few defects real lists hold."""
    email = _address_sql(draw, "i")
    other = f"(i + 1 + {draw.hash('i', 12)} % {max(count - 1, 1)}) % {count}"
    chance = draw.uniform("i", 11)
    duplicate = _address_sql(draw, other) if count > 1 else email
    return f"""CASE
        WHEN {chance} < 0.004 THEN replace({email}, '@', '')
        WHEN {chance} < 0.007 THEN replace({email}, '.', ' ')
        WHEN {chance} < 0.010 THEN replace({email}, '.', '..')
        WHEN {chance} < 0.015 THEN {duplicate}
        WHEN {chance} < 0.020 THEN upper({email})
        WHEN {chance} < 0.025 THEN upper(left({email}, 1)) || substr({email}, 2)
        WHEN {chance} < 0.035 THEN ' ' || {email} || ' '
        ELSE {email} END"""


def _address_sql(draw: _Draw, row: str) -> str:
    """``first.last42@domain`` (or ``flast42@``, ``first_last42@``) for row ``row``."""
    first = f"lower(strip_accents({draw.pick(FIRST_NAMES, row, 1)}))"
    last = (
        f"replace(replace(lower(strip_accents({draw.pick(LAST_NAMES, row, 2)})),"
        " '''', ''), ' ', '')"
    )
    local = (
        f"CASE {draw.hash(row, 10)} % 3 WHEN 0 THEN {first} || '.' || {last}"
        f" WHEN 1 THEN left({first}, 1) || {last} ELSE {first} || '_' || {last} END"
    )
    number = f"CAST({row} + 1 AS VARCHAR)"
    return f"({local} || {number} || '@' || {draw.pick(DOMAINS, row, 13)})"


def _city_sql(draw: _Draw) -> str:
    cases = " ".join(
        f"WHEN {quote_literal(country)} THEN {draw.pick(cities, 'i', 15)}"
        for country, cities in CITIES.items()
    )
    missing = f"{draw.uniform('i', 14)} < 0.05"
    return f"CASE WHEN {missing} THEN NULL ELSE CASE country {cases} END END"


def _copy(
    connection: duckdb.DuckDBPyConnection, sql: str, path: Path, options: str
) -> None:
    with replacing(path) as temp:
        connection.execute(f"COPY ({sql}) TO {quote_literal(str(temp))} ({options})")


def _refuse_imported(folder: Path, table: str) -> None:
    path = table_path(folder, table)
    if path.exists() and read_table_info(folder, table).generator is None:
        msg = (
            f"Table {table} holds imported data, which generate would replace. Move"
            f" {path} away first, or write the sample to a file instead."
        )
        raise ConflictError(msg)


def _out_options(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        return "FORMAT parquet, COMPRESSION zstd"
    if suffix not in OUT_FORMATS:
        msg = (
            f"The output file {out.name} has an unknown file type"
            f" {suffix or '(none)'}; use a .csv, .parquet, .jsonl or .ndjson file."
        )
        raise ConfigError(msg, field="out")
    return OUT_FORMATS[suffix]


def _top_level_parts(row: str) -> list[str]:
    """``"i, k"`` → ``["i", "k"]``; commas inside parentheses do not split."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in row:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _mix(seed: int, salt: int) -> int:
    """SplitMix64 of (seed, salt), as a non-negative BIGINT constant."""
    mask = (1 << 64) - 1
    value = (seed * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & mask
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & mask
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & mask
    return (value ^ (value >> 31)) >> 2


def _check_inputs(count: int, seed: int) -> None:
    if not 1 <= count <= MAX_COUNT:
        msg = f"The profile count {count} is out of range; use 1 to {MAX_COUNT:,}."
        raise ConfigError(msg, field="count")
    if not 0 <= seed <= MAX_SEED:
        msg = f"The seed {seed} is out of range; use 0 to {MAX_SEED}."
        raise ConfigError(msg, field="seed")


def _today() -> date:
    return datetime.now(UTC).date()
