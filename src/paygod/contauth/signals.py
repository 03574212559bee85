"""Validation of a session's signal batch and its reduction to derived features.

Nothing here sees text: keystroke samples are timings keyed by key-position labels (the
CMU benchmark's `H.<key>`, `DD.<a>.<b>`, `UD.<a>.<b>`, or W3C `KeyboardEvent.code` values
such as `KeyA`), pointer movement arrives already summarised, and device attributes are
hashed here before anything is kept. A batch with one impossible value is refused whole,
with the JSON pointer of every offending field, and nothing is recorded.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paygod.kernel.errors import FieldError, InvalidInput

MAX_SAMPLES = 50
MAX_POINTER = 50
MAX_FEATURES = 64
MAX_ATTRIBUTES = 32
MAX_HOLD = 2.0  # seconds a key is held in typing; longer is a stuck key, not a person
MAX_INTERVAL = 5.0  # seconds between keys inside one sample; longer is a new sample
MAX_OVERLAP = 2.0  # UD is negative when keys overlap, never by more than a hold
UD_TOLERANCE = 0.002  # UD = DD - H of the first key, up to the 4-decimal rounding
_KEY = r"[A-Za-z][A-Za-z0-9]{0,19}(?:\.[a-z])?"
NAME = re.compile(rf"^(?:H\.{_KEY}|(?:DD|UD)\.{_KEY}\.{_KEY})$")
POINTER_FIELDS: Mapping[str, tuple[float, float]] = {
    "speed_mean": (0.0, 50_000.0),  # px/s
    "speed_std": (0.0, 50_000.0),
    "acceleration_mean": (-1e6, 1e6),  # px/s²
    "acceleration_std": (0.0, 1e6),
    "curvature_mean": (0.0, 10.0),  # rad/px
    "curvature_std": (0.0, 10.0),
    "duration_seconds": (0.001, 600.0),
    "events": (2.0, 100_000.0),
}


@dataclass(frozen=True)
class Batch:
    keystrokes: tuple[dict[str, float], ...]
    pointer: tuple[dict[str, float], ...]
    device: str | None  # sha256 over the hashed attributes
    device_attributes: dict[str, str]  # name -> sha256 of the value (tenant-salted)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _timing_problem(name: str, value: float) -> str | None:
    if name.startswith("H."):
        return None if 0.0 < value <= MAX_HOLD else f"a hold must be in (0, {MAX_HOLD}] s"
    if name.startswith("DD."):
        ok = 0.0 < value <= MAX_INTERVAL
        return None if ok else f"keydown to keydown must be in (0, {MAX_INTERVAL}] s"
    ok = -MAX_OVERLAP <= value <= MAX_INTERVAL
    return None if ok else f"keyup to keydown must be in [-{MAX_OVERLAP}, {MAX_INTERVAL}] s"


def _sample(sample: Any, at: str, errors: list[FieldError]) -> dict[str, float]:
    if not isinstance(sample, Mapping) or not sample:
        errors.append(FieldError(at, "must be a non-empty object of timings in seconds"))
        return {}
    if len(sample) > MAX_FEATURES:
        errors.append(FieldError(at, f"at most {MAX_FEATURES} timings"))
        return {}
    found: dict[str, float] = {}
    for name, raw in sample.items():
        where = f"{at}/{_escape(str(name))}"
        if not NAME.match(str(name)):
            errors.append(
                FieldError(where, "a key-position label: H.<key>, DD.<a>.<b>, UD.<a>.<b>")
            )
            continue
        value = _number(raw)
        problem = "must be a finite number" if value is None else _timing_problem(name, value)
        if problem or value is None:
            errors.append(FieldError(where, problem or "must be a finite number"))
            continue
        found[str(name)] = value
    _consistency(found, at, errors)
    return found


def _consistency(found: Mapping[str, float], at: str, errors: list[FieldError]) -> None:
    """UD.a.b = DD.a.b - H.a: a sample whose three disagree was not measured from keys."""
    for name, ud in found.items():
        if not name.startswith("UD."):
            continue
        pair = name[3:]
        dd = found.get(f"DD.{pair}")
        holds = [v for k, v in found.items() if k.startswith("H.") and pair.startswith(k[2:] + ".")]
        if dd is not None and holds and abs(dd - holds[0] - ud) > UD_TOLERANCE:
            errors.append(FieldError(f"{at}/{_escape(name)}", "must equal DD - H of the first key"))


def _pointer(summary: Any, at: str, errors: list[FieldError]) -> dict[str, float]:
    if not isinstance(summary, Mapping):
        errors.append(FieldError(at, "must be an object of movement statistics"))
        return {}
    found: dict[str, float] = {}
    for name in summary:
        if name not in POINTER_FIELDS:
            errors.append(FieldError(f"{at}/{_escape(str(name))}", "unknown statistic"))
    for name, (low, high) in POINTER_FIELDS.items():
        value = _number(summary.get(name))
        if value is None or not low <= value <= high:
            errors.append(FieldError(f"{at}/{name}", f"required, a number in [{low:g}, {high:g}]"))
        else:
            found[name] = value
    return found


def _device(device: Any, tenant_id: str, errors: list[FieldError]) -> dict[str, str]:
    if device is None:
        return {}
    attributes = device.get("attributes") if isinstance(device, Mapping) else None
    if not isinstance(attributes, Mapping) or not attributes:
        errors.append(FieldError("/device/attributes", "a non-empty object of strings"))
        return {}
    if len(attributes) > MAX_ATTRIBUTES:
        errors.append(FieldError("/device/attributes", f"at most {MAX_ATTRIBUTES} attributes"))
        return {}
    hashed: dict[str, str] = {}
    for name, value in attributes.items():
        where = f"/device/attributes/{_escape(str(name))}"
        if not (isinstance(value, str) and 0 < len(value) <= 512 and 0 < len(name) <= 64):
            errors.append(FieldError(where, "a string of 1-512 characters"))
            continue
        # Salted by tenant: the same browser is not linkable across tenants by its digest.
        hashed[name] = _sha256(f"{tenant_id}\x00{name}\x00{value}")
    return hashed


def _list(body: Mapping[str, Any], name: str, limit: int, errors: list[FieldError]) -> list[Any]:
    found = body.get(name, [])
    if not isinstance(found, list):
        errors.append(FieldError(f"/{name}", "must be an array"))
        return []
    if len(found) > limit:
        errors.append(FieldError(f"/{name}", f"at most {limit} per batch (got {len(found)})"))
        return []
    return found


def parse_batch(body: Mapping[str, Any], tenant_id: str) -> Batch:
    errors: list[FieldError] = []
    for name in body:
        if name not in ("keystrokes", "pointer", "device"):
            errors.append(FieldError(f"/{_escape(str(name))}", "unknown member"))
    samples = _list(body, "keystrokes", MAX_SAMPLES, errors)
    movements = _list(body, "pointer", MAX_POINTER, errors)
    keystrokes = tuple(_sample(s, f"/keystrokes/{i}", errors) for i, s in enumerate(samples))
    pointer = tuple(_pointer(p, f"/pointer/{i}", errors) for i, p in enumerate(movements))
    attributes = _device(body.get("device"), tenant_id, errors)
    if not errors and not (keystrokes or pointer or attributes):
        errors.append(FieldError("/keystrokes", "a batch carries at least one signal"))
    if errors:
        raise InvalidInput("invalid signal batch; nothing was recorded", errors=errors)
    device = _sha256("\x00".join(f"{k}={v}" for k, v in sorted(attributes.items())))
    return Batch(keystrokes, pointer, device if attributes else None, attributes)


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _escape(token: str) -> str:
    """RFC 6901 section 3: `~` and `/` inside a reference token."""
    return token.replace("~", "~0").replace("/", "~1")
