"""No API key and no email where it must not be (reliability plan T14).

A messy export goes through the whole CLI, in this process (so every log record
of every logger is captured at DEBUG): 1,200 canary addresses and the canary
API key, malformed and duplicate addresses in the file, a member Iterable has
forgotten, a 503, a TCP reset and a truncated answer from the fault proxy, and
then a run that fails for good (the proxy answers 401) so the administrators
are notified (webhook and e-mail). Then everything a person or a program can
read is scanned:

- every log record (message and traceback text), every CLI output (stdout and
  stderr, ``--json`` answers included), every webhook payload and every
  notification e-mail (a real SMTP server on a loopback port): neither the key
  nor any 8-character piece of it, nor any canary address;
- every table of the control-plane database: no key piece anywhere; addresses
  only in the reject tables (``run_rejects``, ``final_rejects``, and the Parquet
  files of ``reject_files``, read decoded), where they let a person find the
  customer;
- every file of the data folder: no key piece anywhere; addresses only in the
  Parquet files (profiles, plans, sync states) and the database, which must be
  readable by their owner only (0600; folders 0700).

``runs rejects`` prints the refused addresses on purpose (it is the report a
person uses to fix them): its output is scanned for the key only.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pyarrow.parquet as pq
import pytest
import sqlalchemy
import stamina
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from tests.canary import CANARY_API_KEY, CANARY_PIECES
from tests.reliability.figures import Figures
from tests.reliability.proxy import Fault, FaultProxy, serve_proxy

pytestmark = pytest.mark.socket

DOMAIN = "leak-canary.example"
PEOPLE = 1_200  # two subscribe batches
FORGOTTEN = f"canary.person7@{DOMAIN}"
KEY_VARIABLE = "LEAK_TEST_ITERABLE_KEY"
REJECT_TABLES = {"run_rejects", "final_rejects", "reject_files"}
MARKERS = (f"@{DOMAIN}", "canary.person")  # any address, or its local part


def _customers() -> str:
    rows = [f"C{n},canary.person{n}@{DOMAIN},FR" for n in range(PEOPLE)]
    rows += [f"X1,canary bad@@{DOMAIN},FR", f"X2,Canary.Person1@{DOMAIN.upper()} ,FR"]
    return "customer_id,email,country\n" + "\n".join(rows) + "\n"


@dataclass
class Seen:
    """Everything readable, by where it was read."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    tracebacks: list[str] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.texts.setdefault(where, []).append(text)


class _Webhook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.bodies.append(self.rfile.read(length).decode("utf-8", "replace"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextlib.contextmanager
def _webhook() -> Iterator[tuple[str, list[str]]]:
    """A local webhook receiver: its URL and the bodies it was sent."""
    bodies: list[str] = []
    handler = type("Hook", (_Webhook,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


class _Mailbox:
    """An SMTP handler keeping every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(
        self, server: object, session: object, envelope: Envelope
    ) -> str:
        """Keep the message."""
        del server, session
        content = envelope.content
        text = (
            content.decode("utf-8", "replace")
            if isinstance(content, bytes)
            else str(content)
        )
        self.messages.append(text)
        return "250 OK"


@contextlib.contextmanager
def _smtp() -> Iterator[tuple[int, list[str]]]:
    """A real SMTP server on a loopback port: its port and the messages it got."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box.messages
    finally:
        controller.stop()


@contextlib.contextmanager
def _proxied() -> Iterator[tuple[Emulator, FaultProxy]]:
    """The emulator, knowing the canary key, behind the fault proxy."""
    emulator = Emulator(
        EmulatorConfig(keys=(ApiKeySpec(CANARY_API_KEY),), rate_limits_enabled=False)
    )
    with serve_in_thread(emulator) as url, serve_proxy(url) as proxy:
        for path in ("users/update", "users/forget"):
            answer = httpx.post(f"{url}/api/{path}", json={"email": FORGOTTEN},
                                headers={"Api-Key": CANARY_API_KEY})  # fmt: skip
            assert answer.status_code == 200
        yield emulator, proxy


class _Records(logging.Handler):
    """Every log record of every logger, DEBUG included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Messy:
    """What the messy export left to read."""

    home: Path
    seen: Seen
    faults: set[str]
    webhook: list[str]
    mail: list[str]
    requests: int


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Messy:
    """The messy export, run once for the module, with everything readable."""
    folder = tmp_path_factory.mktemp("leaks")
    seen, records = Seen(), _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    stamina.set_testing(True, attempts=10, cap=True)  # as every test has it
    try:
        with (
            contextlib.chdir(folder),  # no .env of the developer's either
            _proxied() as (emulator, proxy),
            _webhook() as (hook, bodies),
            _smtp() as (smtp_port, mail),
        ):
            home = _messy_export(folder, proxy, (hook, smtp_port), seen)
            faults = {exchange.fault for exchange in proxy.log}
            requests = len(emulator.requests)
    finally:
        stamina.set_testing(False)
        root.removeHandler(records)
        root.setLevel(level)
    for record in records.records:
        seen.add("log records", f"{record.name} {record.getMessage()}")
        if record.exc_info:
            formatted = logging.Formatter().formatException(record.exc_info)
            seen.add("log records", formatted)
    seen.add("webhook payloads", "\n".join(bodies))
    seen.add("notification e-mails", "\n".join(mail))
    _database_texts(home, seen)
    _folder_texts(home, seen)
    return Messy(home, seen, faults, bodies, mail, requests)


def _messy_export(
    tmp_path: Path, proxy: FaultProxy, notices: tuple[str, int], seen: Seen
) -> Path:
    """Set up and run the export through faults and rejects; the data folder."""
    home = tmp_path / "home"
    source = tmp_path / "customers.csv"
    source.write_text(_customers(), encoding="utf-8")
    env: dict[str, str | None] = {  # no developer setting leaks in (module scope)
        name: None for name in os.environ if name.startswith("AUDIENCESYNC_")
    }
    env.update({"AUDIENCESYNC_HOME": str(home), KEY_VARIABLE: CANARY_API_KEY,
                "AUDIENCESYNC_NOTIFY_WEBHOOK_URL": notices[0], "COLUMNS": "200",
                "AUDIENCESYNC_SMTP_HOST": "127.0.0.1",
                "AUDIENCESYNC_SMTP_PORT": str(notices[1])})  # fmt: skip

    def cli(*args: str, emails_allowed: bool = False) -> None:
        result = CliRunner().invoke(app, list(args), env=env)
        where = "runs rejects output" if emails_allowed else "CLI output"
        seen.add(where, f"{args}: {result.output}{result.stderr}")
        if result.exception is not None and not isinstance(
            result.exception, SystemExit
        ):
            seen.tracebacks.append(f"{args[:2]}: {type(result.exception).__name__}")
        if "Traceback (most recent call last)" in result.output + result.stderr:
            seen.tracebacks.append(f"{args[:2]}: a traceback was printed")

    cli("init")
    cli("users", "set-email", "admin", "ops@admins.example")
    cli("profiles", "import", str(source))
    cli("segments", "create", "France", "--where", "country = 'FR'")
    cli("connections", "add", "--name", "Iterable", "--api-key-env", KEY_VARIABLE,
        "--base-url", proxy.url, "--i-agree")  # fmt: skip
    cli("exports", "add", "--name", "Newsletter", "--connection", "Iterable",
        "--email-field", "email", "--segment", "France",
        "--schedule", "manual")  # fmt: skip
    for fault in (Fault("status", status=503), Fault("reset"), Fault("truncate")):
        proxy.script("lists/subscribe", fault)
    cli("exports", "run", "Newsletter", "--json")
    proxy.script("api/lists", Fault("status", status=401), times=20)
    cli("exports", "run", "Newsletter", "--json")  # fails for good: webhook
    proxy.clear()
    for args in (("connections", "list", "--json"),
                 ("connections", "show", "Iterable", "--json"),
                 ("exports", "list", "--json"), ("exports", "show", "Newsletter"),
                 ("runs", "list", "--json"), ("runs", "show", "1", "--json"),
                 ("runs", "show", "2", "--json"), ("runs", "show", "1"),
                 ("audit", "--json"), ("runs", "resume", "99")):  # fmt: skip
        cli(*args)
    cli("runs", "rejects", "1", emails_allowed=True)
    return home


def _database_texts(home: Path, seen: Seen) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{home / 'audiencesync.db'}")
    try:
        with engine.connect() as conn:
            for table in sqlalchemy.inspect(conn).get_table_names():
                query = sqlalchemy.text(f'SELECT * FROM "{table}"')  # noqa: S608
                rows = [tuple(map(_readable, row)) for row in conn.execute(query)]
                where = "reject tables" if table in REJECT_TABLES else f"table {table}"
                seen.add(where, "\n".join(str(tuple(row)) for row in rows))
    finally:
        engine.dispose()


def _readable(value: object) -> object:
    """A stored Parquet file as its rows (compressed bytes would hide a leak)."""
    if isinstance(value, bytes) and value.startswith(b"PAR1"):
        return pq.read_table(io.BytesIO(value)).to_pylist()
    return value


def _holds_emails(path: Path, home: Path) -> bool:
    """Files allowed to hold addresses: Parquet data and the database."""
    return path.suffix == ".parquet" or path == home / "audiencesync.db"


def _folder_texts(home: Path, seen: Seen) -> None:
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("latin-1")
        where = "data files" if _holds_emails(path, home) else f"file {path.name}"
        seen.add(where, text)


def _leaks(seen: Seen) -> list[str]:
    """Where a key piece, or an address outside its allowed places, was read."""
    found = []
    for where, texts in seen.texts.items():
        text = "\n".join(texts)
        if any(piece in text for piece in CANARY_PIECES):
            found.append(f"the key in {where}")
        emails_allowed = where in {"reject tables", "data files", "runs rejects output"}
        lowered = text.lower()
        if not emails_allowed and any(marker in lowered for marker in MARKERS):
            found.append(f"an address in {where}")
    return found


def test_no_key_and_no_email_anywhere_they_do_not_belong(
    messy: Messy, reliability_figures: Figures
) -> None:
    """Logs, outputs, answers, stored errors, audit, webhook, files: no leak."""
    leaks = _leaks(messy.seen)
    tracebacks = messy.seen.tracebacks
    reliability_figures.record(leaks=len(leaks), tracebacks=len(tracebacks))

    assert {"status", "reset", "truncate"} <= messy.faults  # the run met its faults
    assert messy.webhook, "the failed run's webhook was not called"
    assert messy.mail, "the failed run's e-mail was not sent"
    assert messy.requests
    assert messy.seen.texts["log records"]
    rejects = "\n".join(messy.seen.texts["reject tables"]).lower()
    assert FORGOTTEN in rejects
    assert f"canary bad@@{DOMAIN}" in rejects
    assert tracebacks == []
    assert leaks == []


def test_files_holding_emails_are_for_their_owner_only(messy: Messy) -> None:
    """The data folder and its folders are 0700; the database and Parquet 0600."""
    home = messy.home
    loose = [
        f"{path.relative_to(home.parent)} {stat.filemode(path.stat().st_mode)}"
        for path in [home, *home.rglob("*")]
        if (path.is_dir() and path.stat().st_mode & 0o077)
        or (_holds_emails(path, home) and path.stat().st_mode & 0o077)
    ]
    assert loose == []


def test_the_owner_only_check_sees_a_loose_file(tmp_path: Path) -> None:
    """A 0644 Parquet file counts as one that may hold addresses."""
    home = tmp_path / "home"
    home.mkdir()
    loose = home / "plan.parquet"
    loose.write_bytes(b"")
    os.chmod(loose, 0o644)  # noqa: PTH101
    assert _holds_emails(loose, home)
    assert loose.stat().st_mode & 0o077


def test_the_scan_finds_a_key_piece_and_an_address(tmp_path: Path) -> None:
    """The scanner itself: a key piece in a log, an address in a stored error."""
    seen = Seen()
    seen.add("log records", f"retrying with …{CANARY_API_KEY[3:11]}")
    seen.add("table runs", f"refused Canary.Person3@{DOMAIN.upper()}")
    seen.add("reject tables", f"canary.person3@{DOMAIN}")
    assert _leaks(seen) == ["the key in log records", "an address in table runs"]
