"""Telling the administrators that a run failed, or that an export needs them.

:func:`notify_failed_run` is called once per failed run. :func:`notify_run_state`
is called after every run and tells of a change of the export's state: a run
Held for approval, Succeeded with drift, or one in which Iterable rejected every
profile sent; :func:`notify_refused_run` of a run refused because the user it
runs as may no longer run the export (both in :mod:`audiencesync.app.alerts`,
through :func:`send_notice`).

Every notice writes one audit event naming the export, the status, the active
administrators and what became of each channel:

- **e-mail**, when ``AUDIENCESYNC_SMTP_HOST`` is set: one message to every
  active administrator with an address (``users set-email``);
- **webhook**, when ``AUDIENCESYNC_NOTIFY_WEBHOOK_URL`` is set: one JSON POST
  with the run id, export, status, trigger and error text.

Notices carry the run's error text, which the runner keeps free of profile data
and keys, and no link. A channel that fails is logged (its error class, an SMTP
or HTTP status code; never an address, a password or the webhook URL, which
often holds a token) and recorded in the audit event; nothing here ever raises
into the run that failed.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Role
from audiencesync.store.accounts import User
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.app.workspace import Workspace
    from audiencesync.settings import Settings
    from audiencesync.store.database import Database
    from audiencesync.sync.history import RunInfo

logger = logging.getLogger(__name__)

NOTIFIER = "notifier"  # the audit actor of notices: nobody did this, the system did
AUDIT_ACTION = "run.notify_failed"
STATE_ACTION = "export.notify"  # the audit action of state notices
TIMEOUT = 10.0  # seconds for the SMTP server or the webhook to answer
DEFAULT_SENDER = "audiencesync@localhost"
SENT = "sent"
NOT_CONFIGURED = "not configured"
NO_ADDRESSES = "no administrator has an e-mail address"


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice: what the e-mail, the webhook and the audit event carry."""

    event: str  # the webhook's ``event``: run.failed, run.held, export.refused...
    subject: str
    body: str
    payload: dict[str, Any]
    audit_action: str
    target_type: str
    target: str
    details: dict[str, Any]
    label: str  # names it in log lines: "failed run 7", "refused run of 'X'"


@dataclass(frozen=True, slots=True)
class Administrator:
    """An active administrator and their address, if they gave one."""

    name: str
    email: str | None


def notify_failed_run(workspace: Workspace, info: RunInfo) -> None:
    """Tell every active administrator that run ``info`` failed; never raises.

    Runs in any other status are ignored.
    """
    if info.status is not RunStatus.FAILED_PERMANENT:
        return
    send_notice(workspace, _failed_notice(info))


def _failed_notice(info: RunInfo) -> Notice:
    return Notice(
        event="run.failed",
        subject=f"audiencesync: run {info.id} of export {info.export_name} failed",
        body=email_body(info),
        payload=webhook_payload(info),
        audit_action=AUDIT_ACTION,
        target_type="run",
        target=str(info.id),
        details={"export": info.export_name, "status": info.status.value},
        label=f"failed run {info.id}",
    )


def send_notice(workspace: Workspace, notice: Notice) -> None:
    """Send ``notice`` on every channel and audit it; never raises (errors logged)."""
    try:
        _notify(workspace.settings, workspace.database, notice)
    except Exception as exc:  # a notice must never break the run
        logger.error(  # noqa: TRY400 - a trace could show data
            "could not notify the administrators of %s: %s",
            notice.label,
            type(exc).__name__,
        )


def _notify(settings: Settings, database: Database, notice: Notice) -> None:
    admins = administrators(database)
    addresses = [admin.email for admin in admins if admin.email]
    email = send_email(settings, notice, addresses)
    webhook = post_webhook(settings, notice)
    details: dict[str, Any] = {
        **notice.details,
        "administrators": [admin.name for admin in admins],
        "emailed": [admin.name for admin in admins if admin.email]
        if email == SENT
        else [],
        "email": email,
        "webhook": webhook,
    }
    with database.session() as session:
        record_event(
            session,
            NOTIFIER,
            notice.audit_action,
            target_type=notice.target_type,
            target=notice.target,
            details=details,
        )
    logger.info(
        "%s: %d administrators, e-mail %s, webhook %s",
        notice.label,
        len(admins),
        email,
        webhook,
    )


def administrators(database: Database) -> list[Administrator]:
    """The active administrators by name, with their addresses."""
    with database.session() as session:
        rows = session.execute(
            select(User.name, User.email)
            .where(User.role == Role.ADMIN.value, User.removed_at.is_(None))
            .order_by(User.name_key)
        )
        return [Administrator(row.name, row.email) for row in rows]


def send_email(settings: Settings, notice: Notice, addresses: list[str]) -> str:
    """Send the notice by SMTP; "sent", why not, or "failed: <reason>"."""
    if not settings.smtp_host:
        return NOT_CONFIGURED
    if not addresses:
        return NO_ADDRESSES
    try:
        message = _message(settings, notice, addresses)
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=TIMEOUT
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password
                smtp.login(
                    settings.smtp_username,
                    password.get_secret_value() if password else "",
                )
            smtp.send_message(message)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        reason = _reason(exc)
        logger.warning("e-mail notice of %s not sent: %s", notice.label, reason)
        return f"failed: {reason}"
    return SENT


def post_webhook(settings: Settings, notice: Notice) -> str:
    """POST the notice as JSON; "sent", "not configured" or "failed: <reason>"."""
    if settings.notify_webhook_url is None:
        return NOT_CONFIGURED
    url = settings.notify_webhook_url.get_secret_value()
    try:
        status = _post(url, notice.payload)
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a malformed URL
        reason = type(exc).__name__
    else:
        if 200 <= status < 300:
            return SENT
        reason = f"HTTP {status}"
    logger.warning("webhook notice of %s not sent: %s", notice.label, reason)
    return f"failed: {reason}"


def _post(url: str, payload: dict[str, Any]) -> int:
    """POST ``payload``; the status code. Straight through a transport, because
    httpx's client logs every request's full URL, and this one holds a token."""
    request = httpx.Request("POST", url, json=payload)
    request.extensions["timeout"] = httpx.Timeout(TIMEOUT).as_dict()
    with httpx.HTTPTransport() as transport:
        response = transport.handle_request(request)
        response.close()
        return response.status_code


def webhook_payload(info: RunInfo, event: str = "run.failed") -> dict[str, Any]:
    """The JSON the webhook receives (no link, no profile data)."""
    return {
        "event": event,
        "run_id": info.id,
        "export": info.export_name,
        "status": info.status.value,
        "trigger": info.trigger,
        "error": info.error,
        "started_at": info.started_at.isoformat() if info.started_at else None,
        "finished_at": info.finished_at.isoformat() if info.finished_at else None,
    }


def _message(settings: Settings, notice: Notice, addresses: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = settings.smtp_from or DEFAULT_SENDER
    message["To"] = ", ".join(addresses)
    message.set_content(notice.body)
    return message


def email_body(info: RunInfo, *, label: str = "Error") -> str:
    """The plain-text notice."""
    finished = (
        f"{info.finished_at:%Y-%m-%d %H:%M} UTC" if info.finished_at else "unknown"
    )
    return (
        f"Run {info.id} of export {info.export_name} ended {info.status.value}.\n\n"
        f"Trigger: {info.trigger} (requested by {info.requested_by})\n"
        f"Finished: {finished}\n"
        f"{label}: {info.error or 'no error text was recorded'}\n\n"
        f"The run history shows run {info.id} in full.\n"
        "You get this message because you are an audiencesync administrator.\n"
    )


def _reason(exc: Exception) -> str:
    """The error class, and the SMTP code when there is one; never the text."""
    code = getattr(exc, "smtp_code", None)
    return (
        f"{type(exc).__name__} {code}" if isinstance(code, int) else type(exc).__name__
    )
