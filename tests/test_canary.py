"""The suite-wide watch for the canary API key in log records works."""

from __future__ import annotations

import logging

from tests.canary import CANARY_API_KEY
from tests.conftest import _CanaryWatch


def test_a_piece_of_the_key_in_a_debug_record_is_caught() -> None:
    """Eight characters of the key in a DEBUG message count as a leak."""
    watch = _CanaryWatch()
    logger = logging.getLogger("audiencesync.test.canary")
    logger.addHandler(watch)
    logger.propagate = False  # keep the suite-wide watch out of this deliberate leak
    try:
        logger.debug("sending with key ending %s", CANARY_API_KEY[-8:])
    finally:
        logger.removeHandler(watch)
        logger.propagate = True
    assert watch.leaks == ["audiencesync.test.canary:DEBUG"]


def test_text_without_the_key_is_not_a_leak() -> None:
    """Ordinary messages (with the last four characters only) pass."""
    watch = _CanaryWatch()
    logger = logging.getLogger("audiencesync.test.canary")
    logger.addHandler(watch)
    try:
        logger.warning("key …%s refused", CANARY_API_KEY[-4:])
    finally:
        logger.removeHandler(watch)
    assert watch.leaks == []
