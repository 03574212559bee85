"""Which handler performs which action type: the built-ins and the `paygod.actions`
entry-point group.

An entry point names a handler class, a factory or an instance. A class or factory is
called with the kernel (the composition root's object) to build the handler. The entry
point's name is the action type and must equal the handler's `type`. A plug-in that
fails to load is kept out and listed under `refused`, as a pack that fails to compile is:
one broken plug-in does not stop the kernel.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from paygod.actions.ports import ActionHandler
from paygod.kernel.logging import get_logger

ENTRY_POINT_GROUP = "paygod.actions"
log = get_logger("paygod.actions")


class ActionRegistry:
    def __init__(self, handlers: Iterable[ActionHandler] = ()) -> None:
        self._handlers: dict[str, ActionHandler] = {}
        self.refused: dict[str, str] = {}
        for handler in handlers:
            self.register(handler)

    def register(self, handler: ActionHandler) -> None:
        for member in ("check", "perform"):
            if not callable(getattr(handler, member, None)):
                raise TypeError(f"action handler {handler!r} has no {member}()")
        self._handlers[str(handler.type)] = handler

    def get(self, action_type: str) -> ActionHandler | None:
        return self._handlers.get(action_type)

    def types(self) -> list[str]:
        return sorted(self._handlers)

    def load_entry_points(self, context: Any) -> None:
        for point in entry_points(group=ENTRY_POINT_GROUP):
            if point.name in self._handlers:
                self.refused[point.name] = "a built-in action type has this name"
                continue
            try:
                loaded = point.load()
                handler = (
                    loaded
                    if callable(getattr(loaded, "perform", None)) and not isinstance(loaded, type)
                    else loaded(context)
                )
                if getattr(handler, "type", None) != point.name:
                    raise TypeError(
                        f"its handler's type is {getattr(handler, 'type', None)!r}, "
                        f"not the entry point's name {point.name!r}"
                    )
                self.register(handler)
            except Exception as exc:
                self.refused[point.name] = f"{type(exc).__name__}: {exc}"
                log.error("action_plugin_refused", name=point.name, error=self.refused[point.name])
