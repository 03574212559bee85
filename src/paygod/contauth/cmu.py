"""The CMU keystroke-dynamics benchmark layout (Killourhy & Maxion, DSN 2009).

`DSL-StrongPasswordData.csv`: one row per typing of the password `.tie5Roanl` + Return,
columns `subject, sessionIndex, rep`, then 31 timings in seconds: per key its hold time
`H.<key>`, per consecutive pair the keydown-keydown time `DD.<a>.<b>` and the keyup-keydown
time `UD.<a>.<b>` (= DD - H of the first key, negative when keys overlap). The labels name
key positions of a fixed phrase, never text a user wrote; Paygod uses them as feature names.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from paygod.kernel.errors import FieldError, InvalidInput

KEYS: tuple[str, ...] = (
    "period", "t", "i", "e", "five", "Shift.r", "o", "a", "n", "l", "Return",
)  # fmt: skip


def _features() -> tuple[str, ...]:
    names: list[str] = []
    for i, key in enumerate(KEYS):
        names.append(f"H.{key}")
        if i + 1 < len(KEYS):
            names += [f"DD.{key}.{KEYS[i + 1]}", f"UD.{key}.{KEYS[i + 1]}"]
    return tuple(names)


FEATURES: tuple[str, ...] = _features()
ID_COLUMNS: tuple[str, ...] = ("subject", "sessionIndex", "rep")
COLUMNS: tuple[str, ...] = ID_COLUMNS + FEATURES
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Typing:
    """One row: who typed, in which session, which repetition, and its 31 timings."""

    subject: str
    session: int
    rep: int
    timings: tuple[float, ...]

    def as_features(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.timings, strict=True))


def _row(values: Sequence[str], line: int) -> Typing:
    if len(values) != len(COLUMNS):
        raise InvalidInput(
            f"line {line}: {len(values)} columns, the layout has {len(COLUMNS)}",
            errors=[FieldError(f"/{line}", "wrong number of columns")],
        )
    try:
        session, rep = int(values[1]), int(values[2])
        timings = tuple(float(v) for v in values[3:])
    except ValueError as exc:
        raise InvalidInput(
            f"line {line}: {exc}", errors=[FieldError(f"/{line}", "not a number")]
        ) from None
    if not all(math.isfinite(t) for t in timings):
        raise InvalidInput(
            f"line {line}: a timing is not finite", errors=[FieldError(f"/{line}", "NaN/inf")]
        )
    return Typing(values[0], session, rep, timings)


def parse(text: str) -> list[Typing]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise InvalidInput(
            "not the CMU keystroke benchmark layout (DSL-StrongPasswordData.csv columns)",
            errors=[FieldError("/0", f"header must be {','.join(COLUMNS[:5])},...")],
        )
    rows = []
    for line, values in enumerate(reader, start=1):
        if not values:
            continue
        if line > MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS} rows", errors=[FieldError("/", "too big")])
        rows.append(_row([v.strip() for v in values], line))
    if not rows:
        raise InvalidInput("no rows", errors=[FieldError("/1", "the file has a header only")])
    return rows


def read(path: Path) -> list[Typing]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {path}: {exc.strerror}", errors=[FieldError("/data", "unreadable")]
        ) from None
    return parse(text)


def write(rows: Iterable[Typing]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.subject, r.session, r.rep, *(f"{t:.4f}" for t in r.timings)])
    return out.getvalue()
