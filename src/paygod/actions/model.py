"""Action values: what a decision asks to be done, one run of it, a webhook destination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACTION_KIND = "action"
DESTINATION_KIND = "action_destination"
PERFORM_EVENT = "action.perform"
# An action's life, as sealed entries of subject `action:<decision_id>`.
PENDING = "pending"  # sealed with its decision, waiting for the executor
AWAITING_APPROVAL = "awaiting_approval"  # the decision was flagged for review
PERFORMING = "performing"  # an attempt's intent, sealed before the side effect
ATTEMPT_FAILED = "attempt_failed"  # that attempt failed; the executor retries
DONE = "done"
REFUSED = "refused"  # can never succeed (the handler said so): dead-lettered
DEAD = "dead"  # every retry failed: dead-lettered
SKIPPED = "skipped"  # the decision did not allow it (deny, error, rejected review)
FINAL = frozenset({DONE, REFUSED, DEAD, SKIPPED})


class ActionRefused(Exception):
    """The action can never succeed as asked (unknown destination, refused transfer)."""


class ActionUnavailable(Exception):
    """This attempt failed but a later one may succeed (timeout, 5xx, circuit open)."""


def subject_of(decision_id: str) -> str:
    return f"action:{decision_id}"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """`{"type": ..., "destination": ..., "payload": {...}}`, named by the request or a rule."""

    type: str
    destination: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    source: str = "request"  # request | rule

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "payload": dict(self.payload)}
        if self.destination is not None:
            out["destination"] = self.destination
        out["source"] = self.source
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionSpec:
        return cls(
            type=str(data["type"]),
            destination=data.get("destination"),
            payload=dict(data.get("payload") or {}),
            source=str(data.get("source", "request")),
        )


@dataclass(frozen=True, slots=True)
class ActionRun:
    """One attempt at an action, as a handler sees it. `action_id` is stable across
    attempts: receivers dedupe by it (the webhook's Idempotency-Key, the transfer's id)."""

    action_id: str
    decision_id: str
    decision_seq: int | None
    tenant_id: str
    subject: str
    verdict: str
    amount_minor: int | None
    spec: ActionSpec
    attempt: int


@dataclass(frozen=True, slots=True)
class Destination:
    """An allowlisted webhook target of one tenant; `secret` signs what is sent to it."""

    tenant_id: str
    name: str
    url: str
    secret: str
    allow_private: bool = False
    timeout_seconds: float = 5.0
    created_at: str | None = None
    created_by: str | None = None

    def public(self) -> dict[str, Any]:
        """Everything but the secret."""
        return {
            "name": self.name,
            "url": self.url,
            "allow_private": self.allow_private,
            "timeout_seconds": self.timeout_seconds,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }
