"""Failed-run notices: the audit event always, e-mail over SMTP, a JSON webhook."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr
from sqlalchemy import select

from audiencesync.app.home import initialize
from audiencesync.app.notifications import AUDIT_ACTION, notify_failed_run
from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.settings import Settings, load_settings
from audiencesync.store.accounts import AuditEvent
from audiencesync.sync.history import RunInfo
from audiencesync.sync.statuses import RunStatus

pytestmark = pytest.mark.socket

WHEN = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
FAILED = RunInfo(
    id=7,
    export_id=1,
    export_name="Newsletter",
    trigger="scheduled",
    status=RunStatus.FAILED_PERMANENT,
    dry_run=False,
    requested_by="admin",
    created_at=WHEN,
    started_at=WHEN,
    finished_at=WHEN,
    error="Iterable refused the API key (HTTP 401).",
    cancel_requested=False,
    counts={},
)
WEBHOOK_TOKEN = "hook-token-5f1c9a"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A data folder: admins with and without an address, a contributor with one."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    with open_workspace(settings) as workspace:
        workspace.users.set_email("admin", "Admin@Example.org")
        workspace.users.add("olga", role=Role.ADMIN, email="olga@example.org")
        workspace.users.add("nora", role=Role.ADMIN)
        workspace.users.add("cora", role=Role.CONTRIBUTOR, email="cora@example.org")
    return settings


def notify(settings: Settings, info: RunInfo = FAILED, **changes: Any) -> None:
    """Notify with ``changes`` applied to the settings."""
    with open_workspace(settings.model_copy(update=changes)) as workspace:
        notify_failed_run(workspace, info)


def audit_details(settings: Settings) -> list[dict[str, Any]]:
    """The details of every notice audit event."""
    with open_workspace(settings) as workspace, workspace.database.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION))
        return [{"target": row.target, **row.details} for row in rows]


# --- a real SMTP server on a loopback port -----------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server received, and the logins it saw."""

    port: int
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(
        self,
        server: SMTP,  # noqa: ARG002 - aiosmtpd's hook signature
        session: Session,  # noqa: ARG002
        envelope: Envelope,
    ) -> str:
        """Keep the message."""
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(  # aiosmtpd's authenticator signature
        self,
        server: SMTP,  # noqa: ARG002
        session: Session,  # noqa: ARG002
        envelope: Envelope,  # noqa: ARG002
        mechanism: str,  # noqa: ARG002
        data: Any,
    ) -> AuthResult:
        """Accept any login, remembering it."""
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=True)

    def message(self) -> Message:
        """The one message received."""
        (envelope,) = self.envelopes
        assert isinstance(envelope.content, bytes)
        return message_from_bytes(envelope.content)


@pytest.fixture
def mailbox(free_tcp_port: int) -> Iterator[Mailbox]:
    """An SMTP server that accepts everything (AUTH allowed without TLS)."""
    box = Mailbox(free_tcp_port)
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_tcp_port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def test_every_administrator_with_an_address_gets_the_email(
    settings: Settings, mailbox: Mailbox
) -> None:
    """Active admins with an address are the recipients; contributors are not."""
    notify(settings, smtp_host="127.0.0.1", smtp_port=mailbox.port)
    (envelope,) = mailbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["admin@example.org", "olga@example.org"]


def test_the_email_names_the_run_the_export_and_the_error(
    settings: Settings, mailbox: Mailbox
) -> None:
    """Subject and body say which run of which export failed, and why."""
    notify(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from="alerts@example.org",
    )
    message = mailbox.message()
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert message["Subject"] == "audiencesync: run 7 of export Newsletter failed"
    assert message["From"] == "alerts@example.org"
    assert "Iterable refused the API key (HTTP 401)." in body.decode()
    assert "The run history shows run 7 in full." in body.decode()
    assert "`" not in body.decode()  # no command: the reader may be far from a shell


def test_the_email_logs_in_when_a_username_is_set(
    settings: Settings, mailbox: Mailbox
) -> None:
    """smtp_username and smtp_password are used for SMTP AUTH."""
    notify(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_username="mailer",
        smtp_password=SecretStr("s3cret-pass"),
    )
    assert mailbox.logins == [(b"mailer", b"s3cret-pass")]


def test_the_audit_event_names_who_was_emailed(
    settings: Settings, mailbox: Mailbox
) -> None:
    """The event names the run, every active admin, and those e-mailed."""
    notify(settings, smtp_host="127.0.0.1", smtp_port=mailbox.port)
    (details,) = audit_details(settings)
    assert details == {
        "target": "7",
        "export": "Newsletter",
        "status": "Failed (permanent)",
        "administrators": ["admin", "nora", "olga"],
        "emailed": ["admin", "olga"],
        "email": "sent",
        "webhook": "not configured",
    }


def test_without_channels_the_audit_event_is_still_written(settings: Settings) -> None:
    """No SMTP, no webhook: the audit log is the notice."""
    notify(settings)
    (details,) = audit_details(settings)
    assert (details["email"], details["webhook"], details["emailed"]) == (
        "not configured",
        "not configured",
        [],
    )


def test_an_unreachable_smtp_server_is_audited_and_logged_without_addresses(
    settings: Settings, free_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens: no exception, the failure is recorded, no address logged."""
    with caplog.at_level(logging.DEBUG, logger="audiencesync"):
        notify(settings, smtp_host="127.0.0.1", smtp_port=free_tcp_port)
    (details,) = audit_details(settings)
    assert details["email"] == "failed: ConnectionRefusedError"
    assert not [m for m in caplog.messages if "example.org" in m]


def test_only_failed_permanent_runs_are_notified(settings: Settings) -> None:
    """A run in another status writes nothing."""
    notify(settings, replace(FAILED, status=RunStatus.FAILED_RETRYING))
    assert audit_details(settings) == []


# --- a real HTTP server on a loopback port -----------------------------------------


@dataclass
class Hook:
    """What the webhook server received, and the status it answers with."""

    url: str
    status: int = 204
    bodies: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    """An HTTP server on a free loopback port that records JSON POSTs."""
    received = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(received.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_port}/hooks/{WEBHOOK_TOKEN}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_webhook_gets_the_run_as_json(settings: Settings, hook: Hook) -> None:
    """One POST with the run id, export, status, trigger and error; no link."""
    notify(settings, notify_webhook_url=SecretStr(hook.url))
    assert hook.bodies == [
        {
            "event": "run.failed",
            "run_id": 7,
            "export": "Newsletter",
            "status": "Failed (permanent)",
            "trigger": "scheduled",
            "error": "Iterable refused the API key (HTTP 401).",
            "started_at": WHEN.isoformat(),
            "finished_at": WHEN.isoformat(),
        }
    ]
    assert audit_details(settings)[0]["webhook"] == "sent"


def test_a_failing_webhook_is_audited_and_its_url_never_logged(
    settings: Settings, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 answer is recorded; the URL (it holds a token) is in no log line."""
    hook.status = 500
    with caplog.at_level(logging.DEBUG):
        notify(settings, notify_webhook_url=SecretStr(hook.url))
    assert audit_details(settings)[0]["webhook"] == "failed: HTTP 500"
    assert not [r for r in caplog.records if WEBHOOK_TOKEN in r.getMessage()]
