"""The promotion pipeline over HTTP: a signed bundle uploaded by a platform admin becomes a
draft, moves on only with a fresh TOTP code from a human, and every move is sealed."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paygod import bootstrap
from paygod.bootstrap import Kernel, build_kernel
from paygod.decisions.packs import DEFAULT_PACKS_DIR
from paygod.identity.model import ALL_TENANTS, PrincipalKind, Role
from paygod.kernel.clock import ManualClock
from paygod.kernel.settings import load_settings
from tests.support.bundles import PACK, challenger_bundle, keypair, signed_copy, upload_body
from tests.support.http import api_client, principal_headers
from tests.support.stepup import SecondFactor


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Kernel, Path]]:
    private, public = keypair(tmp_path, "release")
    packs = signed_copy(DEFAULT_PACKS_DIR, tmp_path / "packs", private, "1.0.0")
    settings = load_settings(
        home=tmp_path / "home",
        database_url=None,
        redis_url=None,
        packs=packs,
        packs_trusted_keys=public,
    )
    # A manual clock: each step-up takes the next 30-second step's code (tests/support/stepup.py).
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(bootstrap, "clock_from_settings", lambda settings: clock)
    kernel = build_kernel(settings)
    yield kernel, private
    kernel.close()


def _human(kernel: Kernel) -> tuple[TestClient, SecondFactor]:
    identity = kernel.identity
    human = identity.create_principal(
        ALL_TENANTS, "policy-owner", PrincipalKind.HUMAN, frozenset({Role.PLATFORM_ADMIN})
    )
    issued = identity.issue_key(human.principal_id)
    client = api_client(kernel, {"Authorization": f"Bearer {issued.token}"})
    return client, SecondFactor(kernel, human)


def test_a_human_moves_the_pipeline_only_with_a_fresh_code(
    setup: tuple[Kernel, Path], tmp_path: Path
) -> None:
    kernel, key = setup
    http, factor = _human(kernel)
    body = upload_body(challenger_bundle(tmp_path, key))

    refused = http.post("/v1/packs/bundles", json=body)
    assert refused.status_code == 401 and refused.json()["type"].endswith("/step-up-required")
    assert http.get("/v1/packs/pipeline").json()["packs"][0]["challenger"] is None

    uploaded = http.post("/v1/packs/bundles", json=body, headers=factor.header())
    assert uploaded.status_code == 201, uploaded.text
    proposals = uploaded.json()["proposals"]
    assert [p["pack"] for p in proposals] == [PACK]
    assert proposals[0]["challenger"]["stage"] == "draft"
    assert uploaded.json()["receipt"]["seq"] >= 1

    code = factor.code()
    moved = http.post(
        f"/v1/packs/{PACK}/promote", json={"to": "shadow"}, headers={"X-Paygod-TOTP": code}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["challenger"]["stage"] == "shadow"
    replayed = http.post(
        f"/v1/packs/{PACK}/promote", json={"to": "retired"}, headers={"X-Paygod-TOTP": code}
    )
    assert replayed.status_code == 401 and replayed.json()["type"].endswith("/step-up-failed")

    diff = http.get(f"/v1/packs/{PACK}/diff").json()
    assert diff["after"]["version"] == "1.2.0"
    assert any(c["before"] == "allow" and c["after"] == "deny" for c in diff["changes"])

    bad = http.post(f"/v1/packs/{PACK}/canary", json={"percent": 140}, headers=factor.header())
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/percent"

    back = http.post(
        f"/v1/packs/{PACK}/rollback", json={"reason": "not yet"}, headers=factor.header()
    )
    assert back.status_code == 200 and back.json()["challenger"]["stage"] == "retired"
    stages = [
        e.payload["stage"]
        for e in kernel.ledger.history(f"policy:{PACK}")
        if e.kind == "policy.stage"
    ]
    assert stages == ["draft", "shadow", "retired"]
    actors = {e.payload["actor"] for e in kernel.ledger.history(f"policy:{PACK}")}
    assert actors == {http.get("/v1/identity/me").json()["principal_id"]}


def test_a_tampered_or_foreign_upload_is_refused_and_nothing_moves(
    setup: tuple[Kernel, Path], tmp_path: Path
) -> None:
    kernel, key = setup
    http = api_client(kernel)  # a platform service principal: no step-up
    body = upload_body(challenger_bundle(tmp_path, key))
    pack_file = f"{PACK}/pack.yaml"
    tampered = dict(body["files"])
    tampered[pack_file] = base64.b64encode(
        base64.b64decode(tampered[pack_file]) + b"\n# edited\n"
    ).decode()
    answer = http.post("/v1/packs/bundles", json={**body, "files": tampered})
    assert answer.status_code == 422 and "changed since it was signed" in answer.json()["detail"]

    other, _ = keypair(tmp_path, "stranger")
    foreign = upload_body(signed_copy(tmp_path / "upload", tmp_path / "foreign", other, "9"))
    answer = http.post("/v1/packs/bundles", json=foreign)
    assert answer.status_code == 422 and "not a trusted key" in answer.json()["detail"]

    escape = {**body, "files": {**body["files"], "../evil.yaml": "AA=="}}
    answer = http.post("/v1/packs/bundles", json=escape)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "/files/..~1evil.yaml"
    assert kernel.ledger.history(f"policy:{PACK}") == []

    tenant_admin = api_client(kernel, principal_headers(kernel, roles=["admin"], tenant_id="acme"))
    answer = tenant_admin.post(f"/v1/packs/{PACK}/rollback", json={"reason": "x"})
    assert answer.status_code in {401, 403}
    assert tenant_admin.get("/v1/packs/pipeline").status_code == 200


def test_a_release_over_http_is_what_a_database_sourced_kernel_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keypair(tmp_path, "release")
    settings = load_settings(
        home=tmp_path / "home",
        database_url=None,
        redis_url=None,
        packs_trusted_keys=public,
        packs_source="database",
    )
    kernel = build_kernel(settings)
    try:
        http = api_client(kernel)
        assert kernel.decisions.packs.get(PACK) is None  # nothing released yet
        body = upload_body(challenger_bundle(tmp_path, private))
        released = http.post("/v1/packs/bundles", json={**body, "release": True})
        assert released.status_code == 201, released.text
        assert released.json()["proposals"] == [] and released.json()["receipt"] is not None
        kernel.decisions.packs.refresh(force=True)
        assert kernel.decisions.packs.get(PACK).version == "1.2.0"  # type: ignore[union-attr]
        assert kernel.decisions.packs.trust() == "signed bundle payments 1.1.0"
    finally:
        kernel.close()
