"""The canary API key: used where a key travels through the whole product.

Every log record of every test is checked for it (tests/conftest.py), and tests
that save it look for it in the database files too. Its 8-character pieces are
random enough never to occur in normal text.
"""

from __future__ import annotations

CANARY_API_KEY = "cnryQ7xZp2Lm9Vt4Rk8Wn3YbHs6Jd5Fg"
CANARY_PIECES = frozenset(
    CANARY_API_KEY[start : start + 8] for start in range(len(CANARY_API_KEY) - 7)
)
