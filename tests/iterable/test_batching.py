"""Batching: item and byte limits, oversize and unencodable users."""

from __future__ import annotations

import orjson
import pytest

from audiencesync.iterable import (
    Batch,
    BatchPolicy,
    RejectBucket,
    Subscriber,
    Unsendable,
)
from audiencesync.iterable.batching import (
    Batcher,
    BodyFrame,
    encode_subscriber,
    iter_batches,
)

FRAME = BodyFrame.around(
    "subscribers", {"listId": 1}, {"updateExistingUsersOnly": False}
)


def _users(count: int, pad: int = 0) -> list[Subscriber]:
    return [
        Subscriber(f"user{i}@example.com", data_fields={"p": "x" * pad})
        for i in range(count)
    ]


def _batches(users: list[Subscriber], policy: BatchPolicy) -> list[Batch | Unsendable]:
    batcher = Batcher(policy, frame=FRAME, encode=encode_subscriber)
    return list(iter_batches(users, batcher))


@pytest.mark.parametrize(
    ("count", "max_items", "sizes"),
    [
        (0, 3, []),
        (1, 3, [1]),
        (3, 3, [3]),
        (7, 3, [3, 3, 1]),
        (2500, 1000, [1000, 1000, 500]),
    ],
    ids=["none", "one", "exact", "remainder", "thousands"],
)
def test_batches_respect_max_items(
    count: int, max_items: int, sizes: list[int]
) -> None:
    """Batches hold at most max_items users, in order, numbered from 1."""
    batches = _batches(_users(count), BatchPolicy(max_items=max_items))
    assert [len(b) for b in batches if isinstance(b, Batch)] == sizes
    assert [b.number for b in batches] == list(range(1, len(sizes) + 1))


def test_batches_respect_max_bytes_of_the_encoded_body() -> None:
    """No body exceeds max_bytes, and every body is the JSON of its users."""
    policy = BatchPolicy(max_items=1000, max_bytes=2000)
    users = _users(40, pad=100)
    batches = [b for b in _batches(users, policy) if isinstance(b, Batch)]
    assert len(batches) > 1
    for batch in batches:
        body = FRAME.wrap(batch.rows)
        assert len(body) <= policy.max_bytes
        decoded = orjson.loads(body)
        assert decoded["listId"] == 1
        assert [s["email"] for s in decoded["subscribers"]] == [
            s.email for s in batch.subscribers
        ]
    assert sum(len(b) for b in batches) == 40


def test_single_user_over_max_bytes_is_rejected_not_sent() -> None:
    """A user too large alone becomes an Unsendable too_large item with a reason."""
    users = [
        *_users(2),
        Subscriber("big@example.com", data_fields={"blob": "x" * 5000}),
    ]
    items = _batches(users, BatchPolicy(max_bytes=1000))
    (unsendable,) = [i for i in items if isinstance(i, Unsendable)]
    assert unsendable.bucket is RejectBucket.TOO_LARGE
    assert "exceed max_bytes" in unsendable.reason
    assert sum(len(i) for i in items if isinstance(i, Batch)) == 2


def test_unencodable_fields_are_rejected_not_sent() -> None:
    """A user whose fields orjson cannot encode becomes invalid_data."""
    items = _batches(
        [Subscriber("a@x.com", data_fields={"x": object()})], BatchPolicy()
    )
    assert isinstance(items[0], Unsendable)
    assert items[0].bucket is RejectBucket.INVALID_DATA


@pytest.mark.parametrize(
    ("head", "tail", "expected"),
    [
        ({"listId": 5}, None, {"listId": 5, "subscribers": [{"a": 1}]}),
        (
            None,
            {"createNewFields": True},
            {"subscribers": [{"a": 1}], "createNewFields": True},
        ),
        (None, None, {"subscribers": [{"a": 1}]}),
    ],
    ids=["head", "tail", "bare"],
)
def test_body_frame_builds_valid_json(
    head: dict[str, object] | None,
    tail: dict[str, object] | None,
    expected: dict[str, object],
) -> None:
    """The frame around pre-encoded rows is the same JSON a full dump would give."""
    frame = BodyFrame.around("subscribers", head, tail)
    assert orjson.loads(frame.wrap([b'{"a":1}'])) == expected
    assert len(frame.wrap([])) == frame.overhead


@pytest.mark.parametrize(
    "policy",
    [{"max_items": 0}, {"max_bytes": 10}],
    ids=["no-items", "tiny-bytes"],
)
def test_batch_policy_refuses_nonsense(policy: dict[str, int]) -> None:
    """BatchPolicy validates its limits."""
    with pytest.raises(ValueError, match="batch policy"):
        BatchPolicy(**policy)


def test_subscriber_needs_an_identifier() -> None:
    """A subscriber without email and userId is refused at construction."""
    with pytest.raises(ValueError, match="email or a userId"):
        Subscriber()
