"""Templates per event type and channel, rendered in Jinja2's sandbox.

Lookup order for an event `credit.approved` on the e-mail channel: `credit.approved.email`,
`credit.*.email`, `default.email` — the first found in the operator's folder
(`$PAYGOD_HOME/notifications/templates/<name>.j2`), then the built-in ones. A template's
first line is the subject, the rest the body. The sandbox keeps an operator's template from
reaching Python internals (attribute access to `__class__`, `mro` and the like is refused);
autoescape is on for HTML bodies only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from paygod.notifications.model import Channel, Rendered

BUILT_IN = {
    "default.email.j2": (
        "[Paygod] {{ event.event_type }} ({{ event.aggregate_type }} {{ event.aggregate_id }})\n"
        "Event {{ event.event_type }} happened at {{ event.occurred_at }}.\n\n"
        "{% for key, value in event.payload | dictsort %}{{ key }}: {{ value }}\n{% endfor %}"
    ),
    "default.inapp.j2": (
        "{{ event.event_type }}\n"
        "{{ event.aggregate_type }} {{ event.aggregate_id }} at {{ event.occurred_at }}"
    ),
    # Webhooks carry the event itself; the template only names it (the subject).
    "default.webhook.j2": "{{ event.event_type }}\n",
}


class TemplateProblem(Exception):
    """A template failed to render (a syntax error, a sandbox refusal, an unknown name)."""


class Templates:
    def __init__(self, folder: Path | None = None) -> None:
        loaders: list[Any] = []
        if folder is not None:
            loaders.append(FileSystemLoader(str(folder)))
        loaders.append(DictLoader(BUILT_IN))
        self.env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            keep_trailing_newline=True,
        )

    def names(self, event_type: str, channel: Channel) -> list[str]:
        found = [f"{event_type}.{channel.value}.j2"]
        parts = event_type.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            found.append(f"{'.'.join(parts[:cut])}.*.{channel.value}.j2")
        found.append(f"default.{channel.value}.j2")
        return found

    def render(self, channel: Channel, event: Mapping[str, Any]) -> Rendered:
        event_type = str(event.get("event_type", ""))
        try:
            template = self.env.select_template(self.names(event_type, channel))
            text = template.render(event=dict(event))
        except TemplateNotFound as exc:  # pragma: no cover - the defaults always exist
            raise TemplateProblem(f"no template for {event_type}: {exc}") from None
        except SecurityError as exc:
            raise TemplateProblem(f"template refused by the sandbox: {exc}") from None
        except TemplateError as exc:
            raise TemplateProblem(f"template failed: {type(exc).__name__}: {exc}") from None
        subject, _, body = text.partition("\n")
        return Rendered(subject=subject.strip()[:200], body=body)
