"""Outbound webhook rail: POST the signed instruction to a partner's endpoint.

The body is the instruction's JSON; the `Paygod-Signature` header signs it (see
`paygod.payments.signing`) and `Idempotency-Key` carries the payment id so the partner
dedupes retries. 2xx → accepted (or the `status` the partner returns); 409 → already
have it; other answers and network errors → RailUnavailable, so the router falls back.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from paygod.payments.model import (
    PaymentInstruction,
    RailReceipt,
    RailRefused,
    RailUnavailable,
)
from paygod.payments.signing import SIGNATURE_HEADER, sign


class WebhookRail:
    def __init__(
        self,
        name: str,
        url: str,
        secret: bytes,
        *,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.secret = secret
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, instruction: PaymentInstruction) -> RailReceipt:
        body = orjson.dumps(instruction.as_dict())
        headers = {
            "content-type": "application/json",
            "Idempotency-Key": instruction.key,
            SIGNATURE_HEADER: sign(self.secret, body),
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise RailUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in (200, 201, 202, 409):
            data = _json(response)
            return RailReceipt(
                self.name,
                instruction.key,
                str(data.get("status", "accepted")),
                str(data.get("reference", "")),
            )
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise RailRefused(f"{self.name}: HTTP {response.status_code}: {response.text[:200]}")
        raise RailUnavailable(f"{self.name}: HTTP {response.status_code}")

    def lookup(self, idempotency_key: str) -> RailReceipt | None:
        try:
            response = self.client.get(f"{self.url}/{idempotency_key}")
        except httpx.HTTPError as exc:
            raise RailUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RailUnavailable(f"{self.name}: lookup HTTP {response.status_code}")
        data = _json(response)
        return RailReceipt(
            self.name,
            idempotency_key,
            str(data.get("status", "accepted")),
            str(data.get("reference", "")),
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
