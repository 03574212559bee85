"""Structured logs: JSON lines (structlog) with the request id bound per request.

Secrets never reach a log line: `redact` masks values under sensitive keys and any
token that looks like a Paygod API key, whatever the key is called.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SENSITIVE_KEYS = re.compile(r"(authorization|api[_-]?key|secret|password|token|totp|cookie)", re.I)
_API_KEY_SHAPE = re.compile(r"pg_[A-Za-z0-9]+_[A-Za-z0-9_\-]{8,}")


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return _API_KEY_SHAPE.sub("pg_***", value)
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if _SENSITIVE_KEYS.search(key):
            event_dict[key] = "***"
        else:
            event_dict[key] = _redact_value(event_dict[key])
    return event_dict


def configure_logging(level: str = "info", *, json_lines: bool = True) -> None:
    numeric = logging.getLevelName(level.upper())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
