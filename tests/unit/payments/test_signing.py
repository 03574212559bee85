"""Webhook signatures: valid accepted; tampered, replayed, stale and malformed refused."""

from __future__ import annotations

import pytest

from paygod.payments.signing import ReplayGuard, WebhookRejected, sign, verify

SECRET = b"whsec_test"
BODY = b'{"idempotency_key":"p1","status":"settled"}'
NOW = 1_767_600_000


def test_valid_signature_is_accepted() -> None:
    parsed = verify(SECRET, sign(SECRET, BODY, timestamp=NOW), BODY, now=NOW + 5)
    assert parsed.timestamp == NOW


@pytest.mark.parametrize(
    ("header", "body", "now", "reason"),
    [
        (
            sign(SECRET, BODY, timestamp=NOW),
            BODY.replace(b"settled", b"failed"),
            NOW,
            "bad_signature",
        ),
        (sign(b"other", BODY, timestamp=NOW), BODY, NOW, "bad_signature"),
        (sign(SECRET, BODY, timestamp=NOW), BODY, NOW + 301, "stale"),
        (sign(SECRET, BODY, timestamp=NOW + 400), BODY, NOW, "stale"),
        (None, BODY, NOW, "malformed"),
        ("t=abc,v1=00", BODY, NOW, "malformed"),
        ("v1=00", BODY, NOW, "malformed"),
    ],
)
def test_refused(header: str | None, body: bytes, now: int, reason: str) -> None:
    with pytest.raises(WebhookRejected) as info:
        verify(SECRET, header, body, now=now)
    assert info.value.reason == reason


def test_replay_is_refused() -> None:
    guard = ReplayGuard()
    header = sign(SECRET, BODY, timestamp=NOW)
    verify(SECRET, header, BODY, now=NOW, guard=guard)
    with pytest.raises(WebhookRejected) as info:
        verify(SECRET, header, BODY, now=NOW + 1, guard=guard)
    assert info.value.reason == "replayed"


def test_timestamp_is_covered_by_the_mac() -> None:
    header = sign(SECRET, BODY, timestamp=NOW)
    forged = header.replace(f"t={NOW}", f"t={NOW + 100}")
    with pytest.raises(WebhookRejected) as info:
        verify(SECRET, forged, BODY, now=NOW + 100)
    assert info.value.reason == "bad_signature"


def test_redis_guard_is_shared_between_processes(redis_url: str) -> None:
    import uuid

    import redis

    from paygod.payments.signing import RedisReplayGuard

    prefix = f"test:seen:{uuid.uuid4().hex}:"
    first = RedisReplayGuard(redis.Redis.from_url(redis_url), prefix=prefix)
    second = RedisReplayGuard(redis.Redis.from_url(redis_url), prefix=prefix)
    header = sign(SECRET, BODY, timestamp=NOW)
    verify(SECRET, header, BODY, now=NOW, guard=first)
    with pytest.raises(WebhookRejected) as info:
        verify(SECRET, header, BODY, now=NOW, guard=second)  # another API process
    assert info.value.reason == "replayed"


def test_redis_guard_falls_back_to_memory_when_redis_is_down() -> None:
    import redis

    from paygod.payments.signing import RedisReplayGuard

    guard = RedisReplayGuard(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2))
    header = sign(SECRET, BODY, timestamp=NOW)
    verify(SECRET, header, BODY, now=NOW, guard=guard)
    with pytest.raises(WebhookRejected):
        verify(SECRET, header, BODY, now=NOW, guard=guard)
