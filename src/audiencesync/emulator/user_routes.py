"""Handlers of the user endpoints (``/api/users/...``)."""

from __future__ import annotations

from starlette.responses import Response

from audiencesync.emulator import replies
from audiencesync.emulator.bulk import bulk_update, write_row
from audiencesync.emulator.call import Call, mismatch
from audiencesync.emulator.config import ProjectType
from audiencesync.emulator.emails import is_valid_email
from audiencesync.emulator.fields import FieldPlan
from audiencesync.emulator.identity import Lookup, Rejection, clean
from audiencesync.emulator.store import User

NO_SUCH_USER = "User does not exist"


_REFUSALS: dict[str, tuple[int, str, str]] = {
    "forgotten": (409, "ForgottenUserError", "Contact is GDPR forgotten"),
    "conflict": (409, "ExternalKeyConflict", "Email/userId conflict"),
    "invalidData": (400, "BadParams", "dataFields values must be valid"),
    "notFound": (400, "UnknownUserIdError", NO_SUCH_USER),
}


def _refusal(rejection: Rejection) -> Response:
    """The single-user answer for a refused identity."""
    if rejection.bucket != "invalid":
        status, code, msg = _REFUSALS[rejection.bucket]
        return replies.envelope(code, msg, status=status)
    if rejection.email == "":
        return replies.bad_params("email or userId is required")
    if rejection.email is not None:
        msg = f"Invalid email: {rejection.email}"
        return replies.envelope("InvalidEmailAddressError", msg)
    return replies.envelope("InvalidUserIdError", "Invalid userId")


async def update_user(call: Call) -> Response:
    """POST /api/users/update: upsert one profile."""
    body = await call.body()
    if isinstance(body, Response):
        return body
    call.items = 1
    cleaned = clean(body.get("email"), body.get("userId"))
    if cleaned.bucket:
        return _refusal(cleaned)
    data = body.get("dataFields") or {}
    if not isinstance(data, dict):
        return replies.bad_params("dataFields must be an object")
    create_new = body.get("createNewFields") is not False
    plan = call.project.schema.plan([("", data)], create_new=create_new)
    if plan.errors:
        return mismatch(call, plan)
    call.project.schema.lock(plan)
    lookup = Lookup(prefer_user_id=bool(body.get("preferUserId")))
    user = write_row(call.project, body, lookup, call.clock.wall())
    return _refusal(user) if isinstance(user, Rejection) else replies.success()


async def bulk_update_users(call: Call) -> Response:
    """POST /api/users/bulkUpdate: upsert many profiles."""
    body = await call.body()
    if isinstance(body, Response):
        return body
    users = body.get("users")
    if not isinstance(users, list) or not all(isinstance(row, dict) for row in users):
        return replies.bad_params("users is required: a list of objects")
    call.items = len(users)
    create_new = body.get("createNewFields") is not False
    outcome = bulk_update(
        call.project, users, create_new=create_new, now=call.clock.wall()
    )
    if isinstance(outcome, FieldPlan):
        return mismatch(call, outcome)
    return replies.json_reply(outcome.body())


def _user_reply(call: Call, user: User | None) -> Response:
    if user is None:
        return replies.json_reply({})
    return replies.json_reply({"user": call.project.profile(user)})


def _by_email(call: Call, raw: str | None) -> Response:
    if raw is None:
        return replies.bad_params("email is required")
    email = raw.lower()
    if not is_valid_email(email):
        return replies.envelope("InvalidEmailAddressError", f"Invalid email: {raw}")
    return _user_reply(call, call.project.by_email.get(email))


async def get_user(call: Call) -> Response:
    """GET /api/users/{email}: the profile, or {} when unknown."""
    return _by_email(call, call.param)


async def get_user_by_email(call: Call) -> Response:
    """GET /api/users/getByEmail?email=."""
    return _by_email(call, call.query("email"))


async def get_user_by_user_id(call: Call) -> Response:
    """GET /api/users/byUserId/{userId}: the profile, or {} when unknown."""
    return _user_reply(call, call.project.by_user_id.get(call.param))


async def get_user_by_user_id_query(call: Call) -> Response:
    """GET /api/users/byUserId?userId=."""
    user_id = call.query("userId")
    if user_id is None:
        return replies.bad_params("userId is required")
    return _user_reply(call, call.project.by_user_id.get(user_id))


def _delete(call: Call, user: User | None) -> Response:
    if user is None:
        return replies.bad_params(NO_SUCH_USER)
    call.project.remove_user(user)
    return replies.success()


async def delete_user(call: Call) -> Response:
    """DELETE /api/users/{email} (email-based and hybrid projects)."""
    if call.project.type is ProjectType.USER_ID:
        msg = "userID-based projects delete by userId: /api/users/byUserId/{userId}"
        return replies.bad_params(msg)
    email = call.param.lower()
    if not is_valid_email(email):
        return replies.envelope("InvalidEmailAddressError", f"Invalid email: {email}")
    return _delete(call, call.project.by_email.get(email))


async def delete_user_by_user_id(call: Call) -> Response:
    """DELETE /api/users/byUserId/{userId}."""
    return _delete(call, call.project.by_user_id.get(call.param))


async def get_fields(call: Call) -> Response:
    """GET /api/users/getFields: the project's field types."""
    return replies.json_reply({"fields": call.project.schema.public()})


async def forget_user(call: Call) -> Response:
    """POST /api/users/forget: erase a user and refuse it from now on."""
    body = await call.body()
    if isinstance(body, Response):
        return body
    cleaned = clean(body.get("email"), body.get("userId"))
    if cleaned.bucket:
        return _refusal(cleaned)
    project = call.project
    if project.forgotten.has(cleaned.email, cleaned.user_id):
        return replies.success()
    user = None
    if cleaned.email is not None:
        user = project.by_email.get(cleaned.email)
    if user is None and cleaned.user_id is not None:
        user = project.by_user_id.get(cleaned.user_id)
    if user is None:
        return replies.bad_params(NO_SUCH_USER)
    project.remove_user(user)
    for email in (cleaned.email, user.email):
        if email is not None:
            project.forgotten.emails.add(email)
    for user_id in (cleaned.user_id, user.user_id):
        if user_id is not None:
            project.forgotten.user_ids.add(user_id)
    return replies.success()
