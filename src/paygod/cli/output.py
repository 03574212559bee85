"""Output for people (rich) and for machines (`--json`, one JSON document on stdout)."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console

console = Console()
# soft_wrap: an error is one line on stderr however narrow the terminal; rich wrapped long
# ones at 80 columns, splitting the "one precise line" in two.
err_console = Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
