"""Output for people (rich) and for machines (`--json`, one JSON document on stdout)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from rich.console import Console, RenderableType
from rich.table import Column, Table
from rich.text import Text

# What the CLI prints is mostly other people's text: pack, rule and case names, reasons,
# file paths, account ids, panic reasons. With rich's markup on, a reason reading
# "over [/limit]" crashed the command with a MarkupError traceback and "[bold]x[/bold]" was
# silently restyled; ":warning:" became an emoji. So neither console reads markup or emoji
# codes: colour is given explicitly with `styled`. soft_wrap keeps a line one line when
# stdout is a pipe (rich wrapped at 80 columns, splitting "intact: N entries, root <hash>"
# and reasons in two for whoever parses them).
console = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
# soft_wrap: an error is one line on stderr however narrow the terminal; rich wrapped long
# ones at 80 columns, splitting the "one precise line" in two.
err_console = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of plain text pieces and (text, style) pieces, none read as markup."""
    return Text.assemble(*parts)


def emit_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def table(
    columns: Sequence[str | Column],
    rows: Iterable[Iterable[object]],
    *,
    title: str | None = None,
    show_header: bool = True,
) -> Table:
    """A table for people: each cell as `str(cell)`, a styled Text as it is."""
    shown = Table(*columns, title=title, show_header=show_header)
    for row in rows:
        shown.add_row(*(c if isinstance(c, Text) else str(c) for c in row))
    return shown


def fields_table(data: Mapping[str, object], title: str) -> Table:
    """A record's fields as a two-column table, field names on the left."""
    return table(("", ""), data.items(), title=title, show_header=False)


def key_values(data: Mapping[str, object], indent: str = "  ") -> list[RenderableType]:
    """`  key: value`, one line per field of a record."""
    return [f"{indent}{key}: {value}" for key, value in data.items()]


def row_lines(rows: Iterable[Mapping[str, object]], *keys: str) -> list[RenderableType]:
    """One line per row: the named fields, two spaces apart (what `grep` and `cut` read)."""
    return ["  ".join(str(row.get(key)) for key in keys) for row in rows]
