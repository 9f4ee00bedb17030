"""Load: 10,000 ``recommend`` calls over 8 threads on Last.fm, zero errors.

Throughput and p99 are measured by ``bench/http_api.py --calls 10000`` (HTTP and in-process
side by side); this test only asserts that every call succeeds with a full answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from interestgraph.api import InterestGraph
from tests.integration.test_ingest import needs_data

pytestmark = [needs_data, pytest.mark.slow]

CALLS, THREADS, K = 10_000, 8, 10


def test_ten_thousand_recommend_calls_over_eight_threads_without_an_error(served):
    ig = InterestGraph(served)
    users = [r["u"] for r in served.read("MATCH (u:User) RETURN u.user_id AS u ORDER BY u")]
    picks = [users[i % len(users)] for i in range(CALLS)]
    errors: list[str] = []

    def one(user: str) -> int:
        try:
            recs = ig.recommend(user, k=K)
        except Exception as e:  # every failure is counted, none may happen
            errors.append(f"{user}: {e!r}")
            return -1
        return len(recs) if all(r.reasons for r in recs) else 0

    with ThreadPoolExecutor(THREADS) as pool:
        sizes = list(pool.map(one, picks))
    assert errors == [], errors[:3]
    assert sizes.count(K) == CALLS
