"""The system refresh schedule, and refresh requests: read, set, clear, request.

The refresh schedule is the :class:`SystemSetting` ``refresh_schedule``, stored
as ``{"cron": ..., "timezone": ...}``;
:func:`audiencesync.scheduling.schedules.next_refresh` reads it to say when
"with each refresh" exports run next. Only administrators change it (design
section 6), and each change writes one audit event; setting the schedule it
already has, or clearing an unset one, writes nothing.

A refresh can also be *requested* (:func:`request_refresh`, the REST API's
``POST /refresh``): the request is the :class:`SystemSetting` ``refresh_request``
(who asked, and when), which the scheduler of the ``serve`` process claims on
its next pass (:func:`claim_refresh_request`) and runs once, as the user who
asked. A request made while one is pending is the pending one. The refresh
itself is :mod:`audiencesync.scheduling.refresh`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from audiencesync.app.schedule_preview import checked_cron, checked_timezone
from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, check
from audiencesync.auth.users import admin_names
from audiencesync.errors import ConfigError
from audiencesync.scheduling.schedules import (
    CRON_EXAMPLE,
    DEFAULT_TIMEZONE,
    MANUAL,
    REFRESH,
    REFRESH_SETTING,
    NextRun,
    check_cron,
    format_time,
    next_cron_time,
    normalize_timezone,
)
from audiencesync.store.accounts import SystemSetting
from audiencesync.store.models import utc_now

if TYPE_CHECKING:
    from sqlalchemy import CursorResult
    from sqlalchemy.orm import Session

    from audiencesync.app.workspace import Workspace
    from audiencesync.store.database import Database

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SETTING_TARGET = "setting"
NOT_SET = "no refresh schedule is set"
REQUEST_SETTING = "refresh_request"

# --- the schedule ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshSchedule:
    """The system refresh schedule as people see it (``cron`` None: off)."""

    cron: str | None
    timezone: str
    next_run: NextRun
    updated_at: datetime | None

    @property
    def is_set(self) -> bool:
        """Whether a refresh schedule is set."""
        return self.cron is not None


def read_refresh_schedule(
    workspace: Workspace, *, now: Clock = utc_now
) -> RefreshSchedule:
    """The refresh schedule and its next run (everyone may read it)."""
    with workspace.database.session() as session:
        check(workspace.actor, Action.READ, admins=admin_names(session))
        return _schedule(session.get(SystemSetting, REFRESH_SETTING), now=now())


def set_refresh_schedule(
    workspace: Workspace,
    cron: str,
    *,
    timezone: str | None = None,
    now: Clock = utc_now,
) -> RefreshSchedule:
    """Set the refresh schedule (administrators only); unchanged: no audit event.

    Without ``timezone`` the zone already set is kept, else UTC.
    """
    expression = _checked_cron(cron)
    with workspace.database.session() as session:
        check(workspace.actor, Action.MANAGE_SCHEDULE, admins=admin_names(session))
        row = session.get(SystemSetting, REFRESH_SETTING)
        old = _schedule(row, now=now())
        zone = checked_timezone(timezone or old.timezone)
        if (old.cron, old.timezone) == (expression, zone):
            return old
        stamp = now()
        value = {"cron": expression, "timezone": zone}
        if row is None:
            row = SystemSetting(key=REFRESH_SETTING, value=value, updated_at=stamp)
            session.add(row)
        else:
            row.value, row.updated_at = value, stamp
        details = {
            "cron": expression,
            "timezone": zone,
            "previous_cron": old.cron,
            "previous_timezone": old.timezone if old.is_set else None,
        }
        _audit(session, workspace, "schedule.set", details)
        return _schedule(row, now=stamp)


def clear_refresh_schedule(
    workspace: Workspace, *, now: Clock = utc_now
) -> RefreshSchedule:
    """Switch the scheduled refresh off (administrators only); off already: no-op."""
    with workspace.database.session() as session:
        check(workspace.actor, Action.MANAGE_SCHEDULE, admins=admin_names(session))
        row = session.get(SystemSetting, REFRESH_SETTING)
        old = _schedule(row, now=now())
        if row is None:
            return old
        session.delete(row)
        details = {"previous_cron": old.cron, "previous_timezone": old.timezone}
        _audit(session, workspace, "schedule.clear", details)
        return _schedule(None, now=now())


def _checked_cron(raw: str) -> str:
    expression = " ".join(raw.split())
    if expression.casefold() in {REFRESH, MANUAL, ""}:
        msg = (
            "The refresh schedule is a cron schedule, e.g."
            f" {CRON_EXAMPLE}; to switch scheduled refreshes off, clear the"
            " schedule."
        )
        raise ConfigError(msg, code="invalid_cron", field="cron")
    return checked_cron(expression)


def _schedule(row: SystemSetting | None, *, now: datetime) -> RefreshSchedule:
    value = row.value if row is not None else None
    if isinstance(value, str):  # the bare cron form schedule.next_refresh accepts
        value = {"cron": value}
    if not isinstance(value, dict) or not isinstance(value.get("cron"), str):
        return RefreshSchedule(None, DEFAULT_TIMEZONE, NextRun(None, NOT_SET), None)
    cron, zone = value["cron"], str(value.get("timezone") or DEFAULT_TIMEZONE)
    try:
        check_cron(cron)
        zone = normalize_timezone(zone)
    except ConfigError:
        text = "the stored schedule is not valid; an administrator can set it again"
        return RefreshSchedule(cron, zone, NextRun(None, text), _saved(row))
    at = next_cron_time(cron, zone, after=now)
    return RefreshSchedule(cron, zone, NextRun(at, format_time(at)), _saved(row))


def _saved(row: SystemSetting | None) -> datetime | None:
    return None if row is None else row.updated_at


def _audit(
    session: Session,
    workspace: Workspace,
    action: str,
    details: Mapping[str, object],
    *,
    target: str = REFRESH_SETTING,
) -> None:
    record_event(
        session,
        workspace.actor,
        action,
        target_type=SETTING_TARGET,
        target=target,
        details=details,
    )
    logger.info("%s by %s", action, workspace.actor.name)


# --- a requested refresh ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """A refresh someone asked for, which the ``serve`` scheduler runs next."""

    requested_by: str
    requested_at: datetime


def request_refresh(workspace: Workspace, *, now: Clock = utc_now) -> RefreshRequest:
    """Ask the ``serve`` scheduler for a refresh (users who may run exports).

    The request is recorded, with an audit event; nothing runs here. While a
    request is pending, asking again returns it and records nothing.
    """
    with workspace.database.session() as session:
        check(workspace.actor, Action.RUN_EXPORTS, admins=admin_names(session))
        pending = pending_refresh_request(session)
    if pending is not None:
        return pending
    stamp = now()
    try:
        with workspace.database.session() as session:
            value = {"requested_by": workspace.actor.name}
            session.add(
                SystemSetting(key=REQUEST_SETTING, value=value, updated_at=stamp)
            )
            session.flush()
            _audit(session, workspace, "refresh.request", {}, target=REQUEST_SETTING)
    except IntegrityError:  # someone else's request came first: that one stands
        with workspace.database.session() as session:
            pending = pending_refresh_request(session)
        if pending is not None:
            return pending
        raise
    return RefreshRequest(workspace.actor.name, stamp)


def pending_refresh_request(session: Session) -> RefreshRequest | None:
    """The refresh asked for and not yet claimed by a scheduler, if any."""
    return _request(session.get(SystemSetting, REQUEST_SETTING))


def claim_refresh_request(database: Database) -> RefreshRequest | None:
    """Take the pending request, if any, so that this scheduler alone runs it.

    The request is deleted when claimed (a compare-and-delete on its time): of
    several ``serve`` processes on one database, one runs it, once.
    """
    with database.session() as session:
        request = pending_refresh_request(session)
        if request is None:
            return None
        result = session.execute(
            delete(SystemSetting)
            .where(SystemSetting.key == REQUEST_SETTING)
            .where(SystemSetting.updated_at == request.requested_at)
            .execution_options(synchronize_session=False)
        )
        claimed = cast("CursorResult[Any]", result).rowcount == 1
    return request if claimed else None


def _request(row: SystemSetting | None) -> RefreshRequest | None:
    if row is None:
        return None
    value = row.value if isinstance(row.value, dict) else {}
    return RefreshRequest(str(value.get("requested_by", "")), row.updated_at)
