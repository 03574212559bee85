"""Fire requests at a live server all at once: one thread per request, a fresh connection
each (so `serve --workers N` spreads them over its processes), released together."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import httpx

from tests.support.requests import decision_body


def fire_at_once(
    url: str, headers: dict[str, str], bodies: Sequence[dict[str, Any]], *, path: str
) -> list[httpx.Response]:
    batch = uuid4().hex[:8]
    start = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def send(i: int) -> None:
        start.wait()
        answers[i] = httpx.post(
            url + path,
            json=bodies[i],
            headers={**headers, "Idempotency-Key": f"race-{batch}-{i}"},
            timeout=60,
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [a for a in answers if a is not None]


def limit_bodies(subject: str, count: int, amount: int) -> list[dict[str, Any]]:
    """`count` decisions for one subject the bundled agent-payment-limits pack judges by
    its velocity (20 an hour) and daily volume (5,000,000 a day) rules."""
    return [{**decision_body(amount), "subject": subject} for _ in range(count)]


def verdicts(answers: Sequence[httpx.Response]) -> list[str]:
    assert {a.status_code for a in answers} <= {201}, [a.text for a in answers][:3]
    return [str(a.json()["decision"]) for a in answers]


def assert_limits_held(url: str, headers: dict[str, str], tag: str) -> None:
    """40 decisions at once under a limit of 20 an hour: exactly 20 allowed. Twelve of
    1,000,000 at once under 5,000,000 a day: exactly five allowed. The rest get the
    limit's own verdict, and each allowed one saw the ones before it."""
    velocity = verdicts(
        fire_at_once(url, headers, limit_bodies(f"urn:paygod:agent:v-{tag}", 40, 1500),
                     path="/v1/decisions")
    )  # fmt: skip
    assert velocity.count("allow") == 20, velocity
    assert velocity.count("deny") == 20, velocity
    answers = fire_at_once(
        url, headers, limit_bodies(f"urn:paygod:agent:a-{tag}", 12, 1_000_000), path="/v1/decisions"
    )
    volume = verdicts(answers)
    assert volume.count("allow") == 5, volume
    denied = [a.json() for a in answers if a.json()["decision"] == "deny"]
    assert {d["rule"] for d in denied} == {"deny-daily-volume"}
    seen = sorted(
        next(m["value"] for m in a.json()["measurements"] if m["name"] == "amount_24h")
        for a in answers
        if a.json()["decision"] == "allow"
    )
    assert seen == [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]
