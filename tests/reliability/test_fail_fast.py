"""A key refused mid-run stops the run at once, keeping the checkpoint (T06, part).

Through the fault proxy, the second subscribe batch is answered 401 (the key
was revoked) or 403 (it may no longer subscribe). The run must end Failed
(permanent) after that one request (no retry storm), with the first batch
checkpointed, in the sync state and on the list, and an error that names the
problem without the key; with the key working again, the next run completes
the list exactly.
"""

from __future__ import annotations

import pytest

from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.statuses import RunStatus
from tests.reliability.figures import Figures
from tests.reliability.proxy import Fault, FaultProxy
from tests.reliability.test_network_faults import (
    MEMBERS,
    _france,
    proxied,
)
from tests.sync.place import Place
from tests.sync.state_rows import state_emails

pytestmark = pytest.mark.socket

__all__ = ["proxied"]  # the fault matrix's fixture, used here too
KEY_PIECES = {  # the emulator's key starts with the product's name: skip those
    piece
    for piece in (DEFAULT_API_KEY[i : i + 8] for i in range(len(DEFAULT_API_KEY) - 7))
    if piece not in "audiencesync-"
}


@pytest.mark.parametrize("status", [401, 403])
def test_a_key_refused_mid_run_fails_once_and_keeps_the_checkpoint(
    proxied: tuple[Place, FaultProxy], status: int, reliability_figures: Figures
) -> None:
    """One request for the refused batch; answered batches kept; the next run exact."""
    place, proxy = proxied
    proxy.script("lists/subscribe", Fault("status", status=status), skip=1)
    with pytest.raises(RunFailedError) as failed:
        place.run()
    list_id, state, acked = _france(place)
    listed = place.emulator.list_members(list_id)
    synced = frozenset(state_emails(state))
    tries = proxy.attempts()
    proxy.clear()
    last = place.run()
    final = place.emulator.list_members(list_id)
    reliability_figures.record(
        synced_without_ack=len(synced - listed),
        lost=len(MEMBERS - final),
        wrong_lists=int(final != MEMBERS),
    )
    assert max(tries.values()) == 1  # the refused batch was sent once
    # Batch 1 went alone; 2 (refused) and 3 then flew together: 3's answer is kept.
    assert (1 in acked, 2 in acked) == (True, False)
    assert synced == listed
    sizes = {1: 1_000, 2: 1_000, 3: len(MEMBERS) - 2_000}
    assert len(listed) == sum(sizes[batch] for batch in acked)
    message = str(failed.value)
    assert f"answered {status}" in message
    assert not any(piece in message for piece in KEY_PIECES)
    assert last.status is RunStatus.SUCCEEDED
    assert final == MEMBERS
