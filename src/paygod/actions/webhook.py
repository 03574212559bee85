"""The built-in `webhook` action: POST a signed JSON body to an allowlisted destination.

Signature: `Paygod-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`
(the scheme of inbound settlement webhooks, paygod.payments.signing). `Idempotency-Key`
and `Paygod-Action-Id` carry the action id, stable over retries: a receiver that keeps
the ids it has processed sees each action once even when a crash made the executor send
it again. Redirects are not followed (they would leave the allowlist); plain-http sends
connect to the address that was vetted, so a second DNS answer cannot move them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from paygod.actions.destinations import (
    AddressRefused,
    delivered,
    post_pinned,
    refused_for_good,
)
from paygod.actions.model import ActionRefused, ActionRun, ActionSpec, ActionUnavailable
from paygod.actions.ports import DestinationStore
from paygod.kernel.errors import FieldError
from paygod.payments.signing import SIGNATURE_HEADER, sign

ACTION_ID_HEADER = "Paygod-Action-Id"


class WebhookAction:
    type = "webhook"

    def __init__(self, destinations: DestinationStore) -> None:
        self.destinations = destinations

    def check(
        self, tenant_id: str, spec: ActionSpec, pointer: str, amount_minor: int | None
    ) -> list[FieldError]:
        if not isinstance(spec.destination, str) or not spec.destination:
            return [FieldError(f"{pointer}/destination", "a webhook names its destination")]
        if self.destinations.get(tenant_id, spec.destination) is None:
            return [
                FieldError(
                    f"{pointer}/destination",
                    f"no destination named {spec.destination!r} in this tenant's allowlist",
                )
            ]
        return []

    def body(self, run: ActionRun) -> bytes:
        return orjson.dumps(
            {
                "action_id": run.action_id,
                "decision_id": run.decision_id,
                "decision_seq": run.decision_seq,
                "tenant_id": run.tenant_id,
                "subject": run.subject,
                "decision": run.verdict,
                "destination": run.spec.destination,
                "payload": dict(run.spec.payload),
            },
            option=orjson.OPT_SORT_KEYS,
        )

    def perform(self, run: ActionRun) -> Mapping[str, Any]:
        destination = self.destinations.get(run.tenant_id, str(run.spec.destination))
        if destination is None:
            raise ActionRefused(f"destination {run.spec.destination!r} is no longer allowlisted")
        body = self.body(run)
        headers = {
            "content-type": "application/json",
            "Idempotency-Key": run.action_id,
            ACTION_ID_HEADER: run.action_id,
            SIGNATURE_HEADER: sign(destination.secret.encode(), body),
        }
        from paygod.kernel.tracing import inject

        inject(headers)
        try:
            response = post_pinned(
                destination.url,
                allow_private=destination.allow_private,
                body=body,
                headers=headers,
                timeout=destination.timeout_seconds,
            )
        except AddressRefused as exc:
            raise ActionRefused(str(exc)) from None
        except httpx.HTTPError as exc:
            raise ActionUnavailable(f"{destination.name}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if delivered(status):
            return {"destination": destination.name, "status_code": status}
        if refused_for_good(status):
            raise ActionRefused(f"{destination.name}: HTTP {status}: {response.text[:200]}")
        raise ActionUnavailable(f"{destination.name}: HTTP {status}")
