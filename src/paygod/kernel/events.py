"""The event envelope of DESIGN.md §4, shared by the outbox, the relay and consumers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paygod.kernel.clock import isoformat
from paygod.kernel.record_ids import new_id
from paygod.kernel.tracing import current_traceparent


@dataclass(frozen=True, slots=True)
class EventEnvelope:
    event_type: str
    aggregate_id: str
    aggregate_type: str
    tenant_id: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    event_version: int = 1
    correlation_id: str | None = None
    causation_id: str | None = None
    event_id: str = field(default_factory=new_id)
    # The W3C trace context of the span that wrote the event (None while tracing is off):
    # the executor continues the trace from it.
    traceparent: str | None = field(default_factory=current_traceparent)

    def as_dict(self) -> dict[str, Any]:
        envelope = {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_version": self.event_version,
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "tenant_id": self.tenant_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "occurred_at": isoformat(self.occurred_at),
            "recorded_at": isoformat(self.recorded_at),
            "payload": dict(self.payload),
        }
        if self.traceparent is not None:
            envelope["traceparent"] = self.traceparent
        return envelope
