"""The emulated data: projects, their users and lists. Pure domain, no HTTP.

Users are kept once per project and indexed by lowercased email and by userId;
a list holds its members as an insertion-ordered dict of users (a set that keeps
``getUsers`` output stable).
"""

from __future__ import annotations

from dataclasses import dataclass

from audiencesync.emulator.config import ProjectSpec, ProjectType
from audiencesync.emulator.fields import Schema, format_date

FIRST_LIST_ID = 100_001


class User:
    """One profile.

    Most users never get a data field (a segment sync only subscribes emails),
    so ``fields`` is created on first use: millions of users then cost one
    allocation each instead of two, and 64 bytes less.
    """

    __slots__ = ("_fields", "created", "email", "updated", "user_id")

    def __init__(self, email: str | None, user_id: str | None, now: float) -> None:
        self.email = email
        self.user_id = user_id
        self._fields: dict[str, object] | None = None
        self.created = now
        self.updated = now

    @property
    def fields(self) -> dict[str, object]:
        """The profile's data fields (a live dict: writes go to the user)."""
        if self._fields is None:
            self._fields = {}
        return self._fields

    @fields.setter
    def fields(self, fields: dict[str, object]) -> None:
        self._fields = fields

    def peek_fields(self) -> dict[str, object]:
        """The data fields for reading, without creating them (writes may be lost)."""
        return {} if self._fields is None else self._fields


class IterableList:
    """One static list."""

    __slots__ = ("created_mono", "created_ms", "description", "id", "members", "name")

    def __init__(
        self,
        list_id: int,
        name: str,
        *,
        description: str | None,
        created_ms: int,
        created_mono: float,
    ) -> None:
        self.id = list_id
        self.name = name
        self.description = description
        self.created_ms = created_ms
        self.created_mono = created_mono
        self.members: dict[User, None] = {}

    def public(self) -> dict[str, object]:
        """The list as GET /api/lists shows it."""
        shown: dict[str, object] = {"id": self.id, "name": self.name}
        if self.description is not None:
            shown["description"] = self.description
        shown["createdAt"] = self.created_ms
        shown["listType"] = "Standard"
        return shown


@dataclass(slots=True)
class Forgotten:
    """Identifiers erased by ``users/forget``; never created again."""

    emails: set[str]
    user_ids: set[str]

    def has(self, email: str | None, user_id: str | None) -> bool:
        """True when either identifier was forgotten."""
        return (email is not None and email in self.emails) or (
            user_id is not None and user_id in self.user_ids
        )


class Project:
    """One project's users, lists and schema."""

    __slots__ = ("by_email", "by_user_id", "forgotten", "lists", "schema", "spec")

    def __init__(self, spec: ProjectSpec) -> None:
        self.spec = spec
        self.by_email: dict[str, User] = {}
        self.by_user_id: dict[str, User] = {}
        self.lists: dict[int, IterableList] = {}
        self.schema = Schema({"signupDate": "date"})
        self.forgotten = Forgotten(set(), set())

    @property
    def type(self) -> ProjectType:
        """The project type."""
        return self.spec.project_type

    @property
    def membership_field(self) -> str:
        """The profile field that lists the user's static lists."""
        return "emailListIds" if self.type is ProjectType.EMAIL else "userListIds"

    def add_user(self, email: str | None, user_id: str | None, now: float) -> User:
        """Create and index a user."""
        user = User(email, user_id, now)
        if email is not None:
            self.by_email[email] = user
        if user_id is not None:
            self.by_user_id[user_id] = user
        return user

    def set_email(self, user: User, email: str) -> None:
        """Give ``user`` a new email and reindex it."""
        if user.email is not None and self.by_email.get(user.email) is user:
            del self.by_email[user.email]
        user.email = email
        self.by_email[email] = user

    def set_user_id(self, user: User, user_id: str) -> None:
        """Give ``user`` a new userId and reindex it."""
        if user.user_id is not None and self.by_user_id.get(user.user_id) is user:
            del self.by_user_id[user.user_id]
        user.user_id = user_id
        self.by_user_id[user_id] = user

    def remove_user(self, user: User) -> None:
        """Delete ``user`` from the indexes and from every list."""
        if user.email is not None and self.by_email.get(user.email) is user:
            del self.by_email[user.email]
        if user.user_id is not None and self.by_user_id.get(user.user_id) is user:
            del self.by_user_id[user.user_id]
        for lst in self.lists.values():
            lst.members.pop(user, None)

    def list_ids_of(self, user: User) -> list[int]:
        """The ids of the lists ``user`` is on."""
        return [lst.id for lst in self.lists.values() if user in lst.members]

    def identifier(self, user: User, *, prefer_user_id: bool = False) -> str:
        """How getUsers prints ``user``."""
        if self.type is ProjectType.USER_ID or (prefer_user_id and user.user_id):
            return user.user_id or user.email or ""
        return user.email or user.user_id or ""

    def profile(self, user: User) -> dict[str, object]:
        """The ``user`` object of a GET user answer."""
        shown: dict[str, object] = {}
        if user.email is not None:
            shown["email"] = user.email
        if user.user_id is not None:
            shown["userId"] = user.user_id
        data: dict[str, object] = dict(shown)
        data.update(user.peek_fields())
        data.setdefault("signupDate", format_date(user.created))
        data["profileUpdatedAt"] = format_date(user.updated)
        data["signupSource"] = "API"
        data[self.membership_field] = self.list_ids_of(user)
        data["subscribedMessageTypeIds"] = []
        data["unsubscribedChannelIds"] = []
        data["unsubscribedMessageTypeIds"] = []
        data["itblInternal"] = _internal(user)
        shown["dataFields"] = data
        return shown


def _internal(user: User) -> dict[str, object]:
    internal: dict[str, object] = {
        "documentCreatedAt": format_date(user.created),
        "documentUpdatedAt": format_date(user.updated),
    }
    if user.email is not None:
        internal["emailDomain"] = user.email.rpartition("@")[2]
    return internal


class Store:
    """All projects, plus the list-id sequence they share."""

    __slots__ = ("next_list_id", "projects")

    def __init__(self, specs: tuple[ProjectSpec, ...]) -> None:
        self.projects: dict[int, Project] = {s.project_id: Project(s) for s in specs}
        self.next_list_id = FIRST_LIST_ID

    def create_list(
        self,
        project: Project,
        name: str,
        *,
        description: str | None,
        wall: float,
        mono: float,
    ) -> IterableList:
        """Make a new, empty list in ``project``."""
        lst = IterableList(
            self.next_list_id,
            name,
            description=description,
            created_ms=int(wall * 1000),
            created_mono=mono,
        )
        self.next_list_id += 1
        project.lists[lst.id] = lst
        return lst

    def find_list(self, list_id: int) -> tuple[Project, IterableList] | None:
        """The list with ``list_id`` in any project, with its project."""
        for project in self.projects.values():
            lst = project.lists.get(list_id)
            if lst is not None:
                return project, lst
        return None
