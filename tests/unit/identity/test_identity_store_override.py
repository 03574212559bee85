"""The composition root takes identity's store as an override, like its other adapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from paygod.bootstrap import build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.stores.memory import MemoryIdentityStore
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.errors import Conflict
from paygod.kernel.settings import load_settings


def test_a_kernel_keeps_identity_on_the_store_it_is_given(
    migrated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PAYGOD_DATABASE_URL", "PAYGOD_REDIS_URL", "PAYGOD_CLOCK"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "paygod.db").write_bytes(migrated_template.read_bytes())
    store = MemoryIdentityStore()
    kernel = build_kernel(load_settings(home=tmp_path), identity_store=store)
    try:
        identity = kernel.identity
        bot = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
        token = identity.issue_key(bot.principal_id).token
        assert identity.authenticate_key(token).principal == bot
        assert store.get_principal(bot.principal_id) == bot
        assert SqlRunner(kernel.db).all("SELECT * FROM identity_principals") == []
        with pytest.raises(Conflict) as refused:
            identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
        assert refused.value.errors[0].pointer == "/name"
    finally:
        kernel.close()
