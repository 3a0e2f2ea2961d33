"""The project's lists as one run sees them: find by exact name, check, create.

The project's lists are read once per run (``GET /api/lists``) and only when a
segment needs them: to adopt a list with exactly the segment's name on its
first run, or to check that a stored list still exists before planning a delta
against it. Created lists join the run's view at once.

Two standard lists with exactly the segment's name are an ambiguity the user
resolves in Iterable: :meth:`ListFinder.find` never picks one. Creating is
idempotent: a create whose answer was lost is followed by a look-up of the new
list by name before it is sent again (see
:meth:`~audiencesync.iterable.client.IterableClient.create_list`). A list is
gone only when a fresh read of the project's lists no longer shows it; one that
Iterable lists but refuses (``invalidListId``) is not ready yet. Segments in
progress at once share one finder: one read serves them all.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from audiencesync.iterable.models import IterableList, ListType
from audiencesync.sync.owners import AmbiguousListError

if TYPE_CHECKING:
    from audiencesync.iterable.client import IterableClient


class ListFinder:
    """The project's lists, by name and by id, read lazily."""

    def __init__(self, client: IterableClient) -> None:
        self._client = client
        self._lists: dict[int, IterableList] | None = None
        self._reading = asyncio.Lock()  # segments waiting for the lists share a read

    async def _load(self) -> dict[int, IterableList]:
        async with self._reading:
            if self._lists is None:
                found = await self._client.list_lists()
                self._lists = {each.id: each for each in found}
            return self._lists

    async def named(self, name: str) -> list[int]:
        """The ids of the standard lists named exactly ``name``, in id order."""
        lists = await self._load()
        return sorted(
            each.id
            for each in lists.values()
            if each.name == name and each.list_type is ListType.STANDARD
        )

    async def find(self, name: str) -> int | None:
        """The id of the standard list named exactly ``name``, if there is one.

        Raises AmbiguousListError when there are several.
        """
        ids = await self.named(name)
        if len(ids) > 1:
            raise AmbiguousListError(name, ids)
        return ids[0] if ids else None

    async def exists(self, list_id: int) -> bool:
        """Whether the project still has the list ``list_id``."""
        return list_id in await self._load()

    async def create(self, name: str) -> int:
        """A new list named ``name``; its id (made once, even if an answer is lost)."""
        lists = await self._load()
        list_id = await self._client.create_list(name, known=frozenset(lists))
        lists[list_id] = IterableList(id=list_id, name=name)
        return list_id

    async def still_listed(self, list_id: int) -> IterableList | None:
        """The list as a fresh read of the project's lists shows it; None if gone."""
        self._lists = None
        return (await self._load()).get(list_id)

    def forget(self, list_id: int) -> None:
        """Drop a list Iterable said is gone from the run's view."""
        if self._lists is not None:
            self._lists.pop(list_id, None)
