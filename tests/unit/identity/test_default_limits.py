"""Defaults that bite (issue 15, D18 and D20): one principal's burst is cut with 429 +
Retry-After below what one process serves; no dev key outside dev mode; `paygod init`
works for a tenant without an admin whatever else exists."""

from __future__ import annotations

import pytest

from paygod.bootstrap import Kernel
from paygod.cli.dev_key import announce_dev_key
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.identity.settings import IdentitySettings
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.kernel.errors import Conflict
from tests.support.http import anonymous_client

# bench identity_http on the 2-core machine: one process serves ~280 authenticated req/s
# to a single sequential client (~250 req/s under 64 concurrent clients).
MEASURED_PROCESS_CAPACITY = 250


def test_default_limits_sit_below_one_process_capacity() -> None:
    defaults = IdentitySettings()
    assert defaults.rate_principal_per_second < MEASURED_PROCESS_CAPACITY / 2
    assert defaults.rate_tenant_per_second < MEASURED_PROCESS_CAPACITY
    assert defaults.rate_principal_burst <= 2 * defaults.rate_principal_per_second


def test_a_burst_from_one_principal_gets_429_and_others_are_served(kernel: Kernel) -> None:
    kernel.identity.settings = IdentitySettings()  # the shipped defaults
    kernel.identity.limiter = MemoryRateLimiter(now=lambda: 0.0)  # the burst is instantaneous
    identity = kernel.identity

    def key(name: str, tenant: str) -> dict[str, str]:
        p = identity.create_principal(tenant, name, PrincipalKind.AGENT, {Role.AGENT})
        return {"Authorization": f"Bearer {identity.issue_key(p.principal_id).token}"}

    greedy, polite = key("greedy", "acme"), key("polite", "globex")
    http = anonymous_client(kernel)
    statuses = [http.get("/v1/identity/me", headers=greedy).status_code for _ in range(120)]
    burst = IdentitySettings().rate_principal_burst
    assert statuses[:burst] == [200] * burst
    assert set(statuses[burst:]) == {429}
    limited = http.get("/v1/identity/me", headers=greedy)
    assert limited.json()["type"].endswith("/rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert http.get("/v1/identity/me", headers=polite).status_code == 200


def test_no_dev_key_outside_dev_mode(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kernel.identity.settings = IdentitySettings(dev_mode=False)
    announce_dev_key(kernel)
    assert not kernel.identity.has_principals()
    assert not (kernel.settings.home / "dev-api-key").exists()
    assert "pg_" not in capsys.readouterr().err
    kernel.identity.settings = IdentitySettings(dev_mode=True)
    announce_dev_key(kernel)
    err = capsys.readouterr().err
    assert "WARNING: PAYGOD_DEV_MODE is on" in err and "dev API key" in err
    assert (kernel.settings.home / "dev-api-key").exists()


def test_dev_mode_is_a_readiness_warning(
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    monkeypatch.setenv("PAYGOD_DEV_MODE", "true")
    kernel = build_kernel(load_settings(home=tmp_path / "home"))
    try:
        ready = anonymous_client(kernel).get("/readyz").json()
    finally:
        kernel.close()
    dev = next(c for c in ready["checks"] if c["name"] == "dev_mode")
    assert dev["status"] == "warn" and ready["status"] == "warn"
    monkeypatch.delenv("PAYGOD_DEV_MODE")
    kernel = build_kernel(load_settings(home=tmp_path / "home"))
    try:
        ready = anonymous_client(kernel).get("/readyz").json()
    finally:
        kernel.close()
    assert "dev_mode" not in {c["name"] for c in ready["checks"]}


def test_init_after_a_dev_key_and_other_tenants(identity: IdentityService) -> None:
    assert identity.dev_key() is not None
    identity.initialize("globex", "gus")
    identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    alice, issued = identity.initialize("acme", "alice")
    assert alice.tenant_id == "acme" and alice.roles == {Role.ADMIN}
    assert identity.authenticate_key(issued.token).principal.name == "alice"
    with pytest.raises(Conflict, match="already has an admin"):
        identity.initialize("acme", "ann")
    ann, _ = identity.initialize("acme", "ann", force=True)
    assert ann.name == "ann"
