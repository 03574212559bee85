"""Events: the outbox relay to NATS JetStream, subjects and streams, and tailing them."""

from paygod.events.model import PublishReport, RelayCursor, RelayEvent
from paygod.events.ports import EventPublisher, RelayCursorStore
from paygod.events.relay import Relay
from paygod.events.subjects import stream_for, subject_for

__all__ = [
    "EventPublisher",
    "PublishReport",
    "Relay",
    "RelayCursor",
    "RelayCursorStore",
    "RelayEvent",
    "stream_for",
    "subject_for",
]
