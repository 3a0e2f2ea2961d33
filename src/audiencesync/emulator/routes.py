"""The route table: which handler answers each endpoint name."""

from __future__ import annotations

from collections.abc import Mapping

from audiencesync.emulator import list_routes, user_routes
from audiencesync.emulator.call import Handler

HANDLERS: Mapping[str, Handler] = {
    "lists": list_routes.get_lists,
    "lists/create": list_routes.create_list,
    "lists/delete": list_routes.delete_list,
    "lists/subscribe": list_routes.subscribe_list,
    "lists/unsubscribe": list_routes.unsubscribe_list,
    "lists/getUsers": list_routes.get_users,
    "lists/previewUsers": list_routes.preview_users,
    "lists/{listId}/size": list_routes.list_size,
    "users/update": user_routes.update_user,
    "users/bulkUpdate": user_routes.bulk_update_users,
    "users/getFields": user_routes.get_fields,
    "users/getByEmail": user_routes.get_user_by_email,
    "users/byUserId": user_routes.get_user_by_user_id_query,
    "users/byUserId/{userId}": user_routes.get_user_by_user_id,
    "users/byUserId/delete": user_routes.delete_user_by_user_id,
    "users/{email}": user_routes.get_user,
    "users/delete": user_routes.delete_user,
    "users/forget": user_routes.forget_user,
}
