"""Token buckets per principal and per tenant: the port and what a decision says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: float
    retry_after: float  # seconds until `cost` tokens are available again; 0 when allowed


class RateLimiter(Protocol):
    def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> RateDecision:
        """Take `cost` tokens from bucket `key` (refilled at `rate`/s, holding at most `burst`)."""
        ...


def refill(
    tokens: float, updated: float, now: float, rate: float, burst: int, cost: float
) -> tuple[float, RateDecision]:
    """The bucket arithmetic both adapters share (Redis runs the same in Lua)."""
    tokens = min(float(burst), tokens + max(0.0, now - updated) * rate)
    if tokens >= cost:
        tokens -= cost
        return tokens, RateDecision(True, tokens, 0.0)
    return tokens, RateDecision(False, tokens, (cost - tokens) / rate)
