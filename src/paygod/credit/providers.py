"""Providers the application saga calls (credit bureau, KYC, bank account verification),
behind one port: `fetch(applicant_ref) -> raw JSON object`.

- `SimulatedProvider`: deterministic by applicant fixtures (the same reference, the same
  answer, every run), optional latency, failure injection by reference or by a seeded rate.
- `HttpProvider`: a real provider's HTTP API (`GET <base_url>?applicant_ref=...`), with a
  timeout per call, a few retries with exponential backoff and jitter inside the call
  (tenacity computes the delays), and a circuit breaker per provider (the executor's
  `BreakerBoard`). When it gives up it raises `ProviderUnavailable`: the saga step fails,
  the outbox worker retries it with its own backoff, and buries it in the dead-letter
  queue once its attempts are spent (`paygod executor dlq retry` replays it).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from paygod.executor.backoff import Backoff
from paygod.executor.breaker import BreakerBoard


class ProviderUnavailable(Exception):
    """The provider did not answer usefully (timeout, 5xx, open breaker): retry later."""


class Provider(Protocol):
    name: str

    def fetch(self, applicant_ref: str) -> dict[str, Any]: ...


Derive = Callable[[str], dict[str, Any]]


@dataclass
class SimulatedProvider:
    name: str
    derive: Derive  # the answer for a reference without a fixture (hash-derived)
    fixtures: Mapping[str, Mapping[str, Any]]
    latency: float = 0.0
    unavailable: frozenset[str] = frozenset()  # references that always time out
    failure_rate: float = 0.0  # share of references (by seeded hash) that time out
    seed: int = 7
    calls: int = 0

    def fetch(self, applicant_ref: str) -> dict[str, Any]:
        self.calls += 1
        if self.latency:
            time.sleep(self.latency)
        draw = hashlib.sha256(f"{self.seed}:{self.name}:{applicant_ref}".encode()).digest()
        if applicant_ref in self.unavailable or (
            int.from_bytes(draw[:8], "big") / 2**64 < self.failure_rate
        ):
            raise ProviderUnavailable(f"{self.name}: timeout for {applicant_ref}")
        fixture = self.fixtures.get(applicant_ref)
        return dict(fixture) if fixture is not None else self.derive(applicant_ref)


class HttpProvider:
    def __init__(
        self,
        name: str,
        base_url: str,
        breakers: BreakerBoard,
        *,
        timeout: float = 2.0,
        attempts: int = 3,
        backoff: Backoff | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.breakers = breakers
        self.attempts = attempts
        self.backoff = backoff or Backoff(initial=0.1, maximum=2.0, jitter=0.1)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), headers=dict(headers or {}), transport=transport
        )

    def fetch(self, applicant_ref: str) -> dict[str, Any]:
        breaker = self.breakers.get(f"credit-provider:{self.name}")
        last = "no attempt"
        for attempt in range(1, self.attempts + 1):
            if not breaker.allow():
                raise ProviderUnavailable(f"{self.name}: circuit open ({last})")
            try:
                answer = self._once(applicant_ref)
            except _Retryable as exc:
                breaker.record_failure()
                last = str(exc)
                if attempt < self.attempts:
                    time.sleep(self.backoff.delay(attempt))
                continue
            breaker.record_success()
            return answer
        raise ProviderUnavailable(f"{self.name}: gave up after {self.attempts} attempts: {last}")

    def _once(self, applicant_ref: str) -> dict[str, Any]:
        try:
            response = self._client.get(self.base_url, params={"applicant_ref": applicant_ref})
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"transport: {type(exc).__name__}") from None
        # RFC 9110 §15.6: 5xx are the server's failures (retryable); 429 asks us to slow down.
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            # 4xx: our request is wrong; retrying it changes nothing.
            raise ProviderRefused(f"{self.name}: HTTP {response.status_code}")
        data = response.json()
        if not isinstance(data, dict):
            raise ProviderRefused(f"{self.name}: the answer is not a JSON object")
        return data

    def close(self) -> None:
        self._client.close()


class ProviderRefused(Exception):
    """The provider refused the request (4xx, malformed answer): no retry can help."""


class _Retryable(Exception):
    pass


@dataclass(frozen=True)
class Providers:
    """The saga's providers; `account` verifies the bank account a loan pays out to."""

    bureau: Provider
    kyc: Provider
    account: Provider
