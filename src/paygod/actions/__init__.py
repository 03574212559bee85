"""Actions: the side effects a sealed, allowing decision asks for, performed exactly once.

Owns the action model, the handler port (built in: a signed outbound webhook and an
accounting transfer; others through the `paygod.actions` entry-point group), the tenant's
webhook destination allowlist and the executor handler of `action.perform` events.
Imports decisions' and executor's public names; nothing imports it but the composition
root, the API and the CLI.
"""

from paygod.actions.model import (
    ActionRefused,
    ActionRun,
    ActionSpec,
    ActionUnavailable,
    Destination,
)
from paygod.actions.ports import ActionHandler, DestinationStore
from paygod.actions.registry import ActionRegistry
from paygod.actions.service import ActionService

__all__ = [
    "ActionHandler",
    "ActionRefused",
    "ActionRegistry",
    "ActionRun",
    "ActionService",
    "ActionSpec",
    "ActionUnavailable",
    "Destination",
    "DestinationStore",
]
