"""Telling the administrators that a run ended Failed (permanent).

:func:`notify_failed_run` is called once per failed run. It always writes one
audit event (target: the run) naming the export, the status, the active
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

:func:`notify_administrators` sends any other :class:`Notice` (a refresh held
by the removal brake, ...) on the same channels, with the same audit event.
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

from audiencesync.audit import record_event
from audiencesync.auth.roles import Role
from audiencesync.store.accounts import User
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.settings import Settings
    from audiencesync.store.database import Database
    from audiencesync.sync.history import RunInfo
    from audiencesync.workspace import Workspace

logger = logging.getLogger(__name__)

NOTIFIER = "notifier"  # the audit actor of notices: nobody did this, the system did
AUDIT_ACTION = "run.notify_failed"
TIMEOUT = 10.0  # seconds for the SMTP server or the webhook to answer
DEFAULT_SENDER = "audiencesync@localhost"
SENT = "sent"
NOT_CONFIGURED = "not configured"
NO_ADDRESSES = "no administrator has an e-mail address"


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
    try:
        _notify(workspace.settings, workspace.database, info)
    except Exception as exc:  # a notice must never break the run
        logger.error(  # noqa: TRY400 - a trace could show data
            "could not notify the administrators of failed run %d: %s",
            info.id,
            type(exc).__name__,
        )


def _notify(settings: Settings, database: Database, info: RunInfo) -> None:
    admins = administrators(database)
    addresses = [admin.email for admin in admins if admin.email]
    email = send_email(settings, info, addresses)
    webhook = post_webhook(settings, info)
    details: dict[str, Any] = {
        "export": info.export_name,
        "status": info.status.value,
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
            AUDIT_ACTION,
            target_type="run",
            target=str(info.id),
            details=details,
        )
    logger.info(
        "failed run %d of export %r: %d administrators, e-mail %s, webhook %s",
        info.id,
        info.export_name,
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


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the administrators must hear about: how to say it, what to audit."""

    event: str  # the webhook's "event", e.g. "refresh.held"
    subject: str
    body: str  # plain text, no profile data
    audit_action: str
    target_type: str
    target: str
    details: dict[str, Any]  # the webhook's fields and the audit event's details


def notify_administrators(workspace: Workspace, notice: Notice) -> None:
    """Send ``notice`` by e-mail and webhook, audit what happened; never raises."""
    try:
        admins = administrators(workspace.database)
        outcome = {
            "administrators": [admin.name for admin in admins],
            "email": _email_notice(workspace.settings, notice, admins),
            "webhook": _post_notice(workspace.settings, notice),
        }
        with workspace.database.session() as session:
            record_event(
                session,
                NOTIFIER,
                notice.audit_action,
                target_type=notice.target_type,
                target=notice.target,
                details={**notice.details, **outcome},
            )
    except Exception as exc:  # a notice must never break what it reports on
        logger.error(  # noqa: TRY400 - a trace could show data
            "could not notify the administrators (%s): %s",
            notice.event,
            type(exc).__name__,
        )


def _email_notice(
    settings: Settings, notice: Notice, admins: list[Administrator]
) -> str:
    addresses = [admin.email for admin in admins if admin.email]
    if not settings.smtp_host:
        return NOT_CONFIGURED
    if not addresses:
        return NO_ADDRESSES
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = settings.smtp_from or DEFAULT_SENDER
    message["To"] = ", ".join(addresses)
    message.set_content(notice.body)
    try:
        _deliver(settings, message)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        reason = _reason(exc)
        logger.warning("e-mail notice (%s) not sent: %s", notice.event, reason)
        return f"failed: {reason}"
    return SENT


def _post_notice(settings: Settings, notice: Notice) -> str:
    if settings.notify_webhook_url is None:
        return NOT_CONFIGURED
    url = settings.notify_webhook_url.get_secret_value()
    try:
        status = _post(url, {"event": notice.event, **notice.details})
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a malformed URL
        reason = type(exc).__name__
    else:
        if 200 <= status < 300:
            return SENT
        reason = f"HTTP {status}"
    logger.warning("webhook notice (%s) not sent: %s", notice.event, reason)
    return f"failed: {reason}"


def _deliver(settings: Settings, message: EmailMessage) -> None:
    """Send ``message`` over SMTP as the settings say (STARTTLS, login)."""
    assert settings.smtp_host  # noqa: S101 - the callers checked
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password
            smtp.login(
                settings.smtp_username,
                password.get_secret_value() if password else "",
            )
        smtp.send_message(message)


def send_email(settings: Settings, info: RunInfo, addresses: list[str]) -> str:
    """Send the notice by SMTP; "sent", why not, or "failed: <reason>"."""
    if not settings.smtp_host:
        return NOT_CONFIGURED
    if not addresses:
        return NO_ADDRESSES
    try:
        _deliver(settings, _message(settings, info, addresses))
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        reason = _reason(exc)
        logger.warning("e-mail notice of failed run %d not sent: %s", info.id, reason)
        return f"failed: {reason}"
    return SENT


def post_webhook(settings: Settings, info: RunInfo) -> str:
    """POST the notice as JSON; "sent", "not configured" or "failed: <reason>"."""
    if settings.notify_webhook_url is None:
        return NOT_CONFIGURED
    url = settings.notify_webhook_url.get_secret_value()
    try:
        status = _post(url, webhook_payload(info))
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a malformed URL
        reason = type(exc).__name__
    else:
        if 200 <= status < 300:
            return SENT
        reason = f"HTTP {status}"
    logger.warning("webhook notice of failed run %d not sent: %s", info.id, reason)
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


def webhook_payload(info: RunInfo) -> dict[str, Any]:
    """The JSON the webhook receives (no link, no profile data)."""
    return {
        "event": "run.failed",
        "run_id": info.id,
        "export": info.export_name,
        "status": info.status.value,
        "trigger": info.trigger,
        "error": info.error,
        "started_at": info.started_at.isoformat() if info.started_at else None,
        "finished_at": info.finished_at.isoformat() if info.finished_at else None,
    }


def _message(settings: Settings, info: RunInfo, addresses: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = (
        f"audiencesync: run {info.id} of export {info.export_name} failed"
    )
    message["From"] = settings.smtp_from or DEFAULT_SENDER
    message["To"] = ", ".join(addresses)
    message.set_content(email_body(info))
    return message


def email_body(info: RunInfo) -> str:
    """The plain-text notice."""
    finished = (
        f"{info.finished_at:%Y-%m-%d %H:%M} UTC" if info.finished_at else "unknown"
    )
    return (
        f"Run {info.id} of export {info.export_name} ended {info.status.value}.\n\n"
        f"Trigger: {info.trigger} (requested by {info.requested_by})\n"
        f"Finished: {finished}\n"
        f"Error: {info.error or 'no error text was recorded'}\n\n"
        f"See the run with `audiencesync runs show {info.id}`.\n"
        "You get this message because you are an audiencesync administrator.\n"
    )


def _reason(exc: Exception) -> str:
    """The error class, and the SMTP code when there is one; never the text."""
    code = getattr(exc, "smtp_code", None)
    return (
        f"{type(exc).__name__} {code}" if isinstance(code, int) else type(exc).__name__
    )
