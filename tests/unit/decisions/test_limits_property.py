"""D2 as a property: whatever amounts arrive for one subject, all at once from many
threads, the decisions the bundled agent-payment-limits pack allows never add up past its
daily cap (5,000,000) or its hourly count (20), and each allowed one saw, in its sealed
`amount_24h`, exactly the allowed ones committed before it."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paygod.bootstrap import build_kernel
from paygod.kernel.settings import load_settings
from tests.support.requests import decision_body

CAP, MAX_PER_HOUR = 5_000_000, 20


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.integers(1, 1_500_000), min_size=2, max_size=30))
def test_parallel_decisions_never_exceed_the_limits(paygod_home: Path, amounts: list[int]) -> None:
    # paygod_home clears PAYGOD_DATABASE_URL and friends: a standalone SQLite kernel.
    kernel = build_kernel(load_settings(home=paygod_home / uuid4().hex))
    try:
        subject = f"urn:paygod:agent:{uuid4().hex[:8]}"
        start = threading.Barrier(len(amounts))
        answers: list[dict] = []  # type: ignore[type-arg]
        lock = threading.Lock()

        def decide(amount: int) -> None:
            body = decision_body(amount)
            start.wait()
            answer = kernel.decisions.decide(
                subject=subject, context=body["context"], input=body["input"]
            )
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=decide, args=(a,)) for a in amounts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        allowed = sorted(
            (a for a in answers if a["decision"] == "allow"), key=lambda a: a["ledger"]["seq"]
        )
        assert len(allowed) <= MAX_PER_HOUR
        assert sum(a["input"]["payment"]["amount_minor"] for a in allowed) <= CAP
        running = 0
        for answer in allowed:
            seen = {m["name"]: m["value"] for m in answer["measurements"]}
            assert seen["amount_24h"] == running  # denied ones do not count
            running += answer["input"]["payment"]["amount_minor"]
    finally:
        kernel.close()
