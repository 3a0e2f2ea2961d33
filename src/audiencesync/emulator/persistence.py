"""The ``--state FILE``: the store as JSON, loaded at start and replaced atomically.

Format (version 1)::

    {"version": 1, "nextListId": 100004,
     "projects": {"1": {"fields": {...}, "forgottenEmails": [...],
                        "forgottenUserIds": [...],
                        "users": [[email, userId, dataFields, created, updated], ...],
                        "lists": [{"id", "name", "description", "createdAt",
                                   "members": [user index, ...]}, ...]}}}

Projects in the file that the configuration does not name are ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from audiencesync.emulator.store import IterableList, Project, Store, User
from audiencesync.errors import ConfigError

VERSION = 1


def save(store: Store, path: Path) -> None:
    """Write ``store`` to ``path`` atomically (temporary file, then replace)."""
    document = {
        "version": VERSION,
        "nextListId": store.next_list_id,
        "projects": {str(pid): _dump(p) for pid, p in store.projects.items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(orjson.dumps(document))
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def load(store: Store, path: Path) -> None:
    """Fill ``store`` from ``path`` if it exists."""
    if not path.exists():
        return
    try:
        document = orjson.loads(path.read_bytes())
        store.next_list_id = max(store.next_list_id, int(document["nextListId"]))
        for pid, data in document["projects"].items():
            project = store.projects.get(int(pid))
            if project is not None:
                _restore(project, data)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        msg = f"state file {path} is unreadable ({exc}); move it away or fix it"
        raise ConfigError(msg) from exc


def _users(project: Project) -> list[User]:
    unique: dict[int, User] = {}
    for index in (project.by_email, project.by_user_id):
        for user in index.values():
            unique.setdefault(id(user), user)
    for lst in project.lists.values():
        for user in lst.members:
            unique.setdefault(id(user), user)
    return list(unique.values())


def _dump(project: Project) -> dict[str, Any]:
    users = _users(project)
    position = {id(user): n for n, user in enumerate(users)}
    return {
        "fields": project.schema.types,
        "forgottenEmails": sorted(project.forgotten.emails),
        "forgottenUserIds": sorted(project.forgotten.user_ids),
        "users": [
            [u.email, u.user_id, u.peek_fields(), u.created, u.updated] for u in users
        ],
        "lists": [
            {
                "id": lst.id,
                "name": lst.name,
                "description": lst.description,
                "createdAt": lst.created_ms,
                "members": [position[id(user)] for user in lst.members],
            }
            for lst in project.lists.values()
        ],
    }


def _restore(project: Project, data: dict[str, Any]) -> None:
    project.schema.types.update(data["fields"])
    project.forgotten.emails.update(data["forgottenEmails"])
    project.forgotten.user_ids.update(data["forgottenUserIds"])
    users: list[User] = []
    for email, user_id, fields, created, updated in data["users"]:
        user = project.add_user(email, user_id, created)
        user.fields = fields
        user.updated = updated
        users.append(user)
    for item in data["lists"]:
        lst = IterableList(
            item["id"],
            item["name"],
            description=item["description"],
            created_ms=item["createdAt"],
            created_mono=float("-inf"),
        )
        lst.members = dict.fromkeys(users[n] for n in item["members"])
        project.lists[lst.id] = lst
