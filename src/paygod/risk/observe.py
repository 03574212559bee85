"""What a decision request tells the risk windows, checked before anything is sealed.

Read from the request: the amount (`input.payment.amount_minor` or `context.amount_minor`),
the counterparty (`input.payment.counterparty.ref`, else `context.counterparty_ref`) and,
from the context, `payer_ref`, `device_ref`, `country`, `ip_country`, `geo` {lat, lon} and
`timezone` (IANA). References only: a device or payer is a `urn:`/`sha256:` reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from paygod.decisions.evidence import is_reference
from paygod.decisions.measurements import request_amount
from paygod.kernel.errors import FieldError
from paygod.risk.features import Observation

COUNTRY = re.compile(r"^[A-Z]{2}$")
_ZONES: set[str] = set()


def _zone_known(name: str) -> bool:
    if not _ZONES:
        _ZONES.update(available_timezones())
    if name not in _ZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def problems(context: Mapping[str, Any]) -> list[FieldError]:
    """Out-of-range or malformed risk facts in the context, each with its pointer."""
    found: list[FieldError] = []
    for key in ("payer_ref", "device_ref", "counterparty_ref"):
        value = context.get(key)
        if value is not None and not is_reference(value):
            found.append(FieldError(f"/context/{key}", "must be a reference (urn:/sha256:)"))
    for key in ("country", "ip_country"):
        value = context.get(key)
        if value is not None and not (isinstance(value, str) and COUNTRY.match(value)):
            found.append(FieldError(f"/context/{key}", "must be an ISO 3166-1 alpha-2 code"))
    zone = context.get("timezone")
    if zone is not None and not (isinstance(zone, str) and _zone_known(zone)):
        found.append(FieldError("/context/timezone", "must be an IANA time zone name"))
    geo = context.get("geo")
    if geo is not None:
        if not isinstance(geo, Mapping) or set(geo) != {"lat", "lon"}:
            found.append(FieldError("/context/geo", "must be an object of exactly lat and lon"))
        else:
            for key, bound in (("lat", 90), ("lon", 180)):
                value = geo[key]
                if not _number(value) or not -bound <= value <= bound:
                    found.append(
                        FieldError(
                            f"/context/geo/{key}", f"must be a number in [-{bound}, {bound}]"
                        )
                    )
    return found


def observation(
    tenant_id: str,
    subject: str,
    input_doc: Mapping[str, Any],
    context: Mapping[str, Any],
    now: datetime,
) -> Observation | None:
    """The observation of a decision that moves money; None for one that does not."""
    amount = request_amount(input_doc, context)
    if amount is None:
        return None
    payment = input_doc.get("payment")
    counterparty = None
    if isinstance(payment, Mapping) and isinstance(payment.get("counterparty"), Mapping):
        ref = payment["counterparty"].get("ref")
        counterparty = ref if isinstance(ref, str) else None
    counterparty = counterparty or context.get("counterparty_ref")
    geo = context.get("geo") if isinstance(context.get("geo"), Mapping) else None
    return Observation(
        tenant_id=tenant_id,
        subject=subject,
        at=now.timestamp(),
        amount_minor=amount,
        payer=context.get("payer_ref"),
        counterparty=counterparty,
        device=context.get("device_ref"),
        country=context.get("country"),
        ip_country=context.get("ip_country"),
        lat=float(geo["lat"]) if geo else None,
        lon=float(geo["lon"]) if geo else None,
        timezone=context.get("timezone"),
    )
