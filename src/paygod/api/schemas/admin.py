"""Success bodies of the admin routes (`api/routers/admin.py`)."""

from __future__ import annotations

from paygod.api.schemas import Body


class PlatformSwitch(Body):
    """What a tenant may know of the platform's switch: on, and since when."""

    on: bool
    since: str | None


class PanicView(Body):
    """The panic switch as its owner sees it. `scope` is `platform` (then
    `frozen_tenants` lists tenants whose own switch is on) or `tenant` (then `frozen`
    and `platform` say whether this tenant's work is held, by either switch)."""

    on: bool
    reason: str | None
    actor: str | None
    since: str | None
    tenant_id: str | None
    scope: str
    frozen_tenants: list[str] | None = None
    frozen: bool | None = None
    platform: PlatformSwitch | None = None
