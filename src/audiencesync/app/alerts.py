"""Alerts: the administrators hear once when an export enters a state needing them.

The states: a run **held** for approval, a run **drifted** beyond the export's
threshold, a run in which Iterable **rejected everyone** it was sent, and a run
**refused** because the user it runs as may no longer run the export. Each is
sent on the channels of failure notices (:func:`~audiencesync.app.notifications.
send_notice`: e-mail, webhook, audit event) when the export enters it. An
export that stays in it (Held for ten runs) is not told of again until a run
ended well in between (Succeeded, or with rejects of some only). Runs that
failed, were canceled or interrupted change nothing: failures have their own
notice. The export's last alerted state is the :class:`SystemSetting`
``alert:export:<id>``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from audiencesync.app.notifications import (
    Notice,
    email_body,
    send_notice,
    webhook_payload,
)
from audiencesync.exports.records import alert_key
from audiencesync.store.accounts import SystemSetting
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.app.workspace import Workspace
    from audiencesync.sync.history import RunInfo

logger = logging.getLogger(__name__)
HELD, DRIFT, ALL_REJECTED, REFUSED = "held", "drift", "all_rejected", "refused"
_KEEP: Final = object()  # a run that says nothing about the export's state
_FINE = frozenset({RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_REJECTS})


def run_state(info: RunInfo) -> str | object | None:
    """The alert state a run leaves its export in: a state, None (fine), or _KEEP."""
    if info.status is RunStatus.HELD:
        return HELD
    if info.status is RunStatus.DRIFTED:
        return DRIFT
    if info.status not in _FINE:
        return _KEEP
    counts = info.counts
    sent = counts.get("planned_add", 0) + counts.get("planned_update", 0)
    delivered = counts.get("added", 0) + counts.get("updated", 0)
    if sent > 0 and delivered == 0 and counts.get("rejected", 0) > 0:
        return ALL_REJECTED
    return None


def notify_run_state(workspace: Workspace, info: RunInfo) -> None:
    """Alert the administrators if run ``info`` moved its export into a state."""
    state = run_state(info)
    if info.dry_run or state is _KEEP or info.export_id is None:
        return  # a dry run, no change, or the export was removed meanwhile
    try:
        with workspace.database.session() as session:
            entered = _enter(session, info.export_id, state)
    except Exception as exc:  # an alert must never break the run
        _log_failure(f"run {info.id}", exc)
        return
    if entered and isinstance(state, str):
        send_notice(workspace, _run_notice(info, state))


def notify_refused_run(workspace: Workspace, export: str, reason: str) -> None:
    """Alert the administrators that a run of ``export`` was refused (``reason``)."""
    try:
        with workspace.database.session() as session:
            export_id = find_export(session, export).id
            entered = _enter(session, export_id, REFUSED)
    except Exception as exc:  # an alert must never hide the refusal
        _log_failure(f"a refused run of {export!r}", exc)
        return
    if entered:
        send_notice(workspace, _refused_notice(export, reason))


def _log_failure(what: str, exc: Exception) -> None:
    logger.error(
        "could not alert the administrators of %s: %s", what, type(exc).__name__
    )


def _enter(session: Session, export_id: int, state: object) -> bool:
    """Record ``state`` as the export's; True when it is a new one to alert."""
    key = alert_key(export_id)
    row = session.scalars(select(SystemSetting).where(SystemSetting.key == key)).first()
    if state is None:
        if row is not None:
            session.delete(row)
        return False
    if row is not None and row.value == state:
        return False
    if row is None:
        session.add(SystemSetting(key=key, value=state))
    else:
        row.value = state
    return True


_SUBJECTS = {
    HELD: "is held: removals wait for an administrator",
    DRIFT: "ended with drift: a list differs from what was sent",
    ALL_REJECTED: "delivered nobody: Iterable rejected every profile sent",
}


def _run_notice(info: RunInfo, state: str) -> Notice:
    shown = info
    if state == ALL_REJECTED:
        shown = replace(info, error=_rejected_note(info))
    return Notice(
        event=f"run.{state}",
        subject=f"audiencesync: run {info.id} of export {info.export_name}"
        f" {_SUBJECTS[state]}",
        body=email_body(shown, label="Note"),
        payload=webhook_payload(shown, event=f"run.{state}"),
        audit_action="run.notify_state",
        target_type="run",
        target=str(info.id),
        details={
            "export": info.export_name,
            "status": info.status.value,
            "state": state,
        },
        label=f"{state} run {info.id}",
    )


def _rejected_note(info: RunInfo) -> str:
    buckets: Counter[str] = Counter()
    for part in info.segments:
        buckets.update(part.rejected)
    said = ", ".join(f"{bucket} {count:,}" for bucket, count in sorted(buckets.items()))
    return (
        f"Iterable rejected every profile sent ({said}); the rejects report"
        f" (runs rejects {info.id}) names each with Iterable's reason."
    )


def _refused_notice(export: str, reason: str) -> Notice:
    body = (
        f"A run of export {export} was refused and did not start.\n\n"
        f"Reason: {reason}\n\n"
        "Runs of this export keep being refused until the user it runs as may"
        " run it again, or an administrator runs it.\n"
        "You get this message because you are an audiencesync administrator.\n"
    )
    return Notice(
        event="export.refused",
        subject=f"audiencesync: a run of export {export} was refused",
        body=body,
        payload={
            "event": "export.refused",
            "run_id": None,
            "export": export,
            "status": "Refused",
            "error": reason,
        },
        audit_action="export.notify_state",
        target_type="export",
        target=export,
        details={"export": export, "state": REFUSED},
        label=f"refused run of {export!r}",
    )
