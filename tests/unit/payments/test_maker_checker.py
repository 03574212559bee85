"""Maker-checker needs a second person (issue 15, D11): a human, and not one the maker
created (directly or through principals it created), nor the human an agent maker acts for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import Principal, PrincipalKind, Role
from paygod.identity.review import require_second_person
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.errors import Forbidden
from tests.support.accounts import open_funded_payer
from tests.support.http import anonymous_client
from tests.support.stepup import SecondFactor
from tests.unit.payments.support import US_BANK


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    kernel = build_kernel()
    open_funded_payer(kernel.accounting, amount=50_000_000, tenant="acme")
    yield kernel
    kernel.close()


def _headers(kernel: Kernel, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {kernel.identity.issue_key(principal.principal_id).token}"}


def _wire_in_review(kernel: Kernel, maker: dict[str, str], key: str = "big") -> str:
    made = anonymous_client(kernel).post(
        "/v1/payments",
        headers={**maker, "Idempotency-Key": key},
        json={
            "payer_account": "agent-1",
            "payee": US_BANK,
            "amount": 1_500_000,
            "currency": "USD",
            "purpose": "invoice 42",
            "rail_preference": "wire",
            "metadata": {"counterparty_verified": True},
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["decision"]["verdict"] == "review"
    return str(made.json()["payment_id"])


def test_a_tenant_admin_cannot_approve_through_principals_it_made(kernel: Kernel) -> None:
    identity = kernel.identity
    admin = identity.create_principal("acme", "adm", PrincipalKind.SERVICE, {Role.ADMIN})
    maker = _headers(kernel, admin)
    payment_id = _wire_in_review(kernel, maker)
    http = anonymous_client(kernel)

    # The reported attack: a service principal with compliance_officer, made over HTTP.
    puppet = http.post(
        "/v1/identity/principals",
        headers=maker,
        json={"name": "puppet", "kind": "service", "roles": ["compliance_officer"]},
    )
    assert puppet.status_code == 201 and puppet.json()["created_by"] == admin.principal_id
    puppet_key = http.post(
        f"/v1/identity/principals/{puppet.json()['principal_id']}/keys", headers=maker, json={}
    ).json()["api_key"]
    refused = http.post(
        f"/v1/payments/{payment_id}/approve",
        headers={"Authorization": f"Bearer {puppet_key}"},
        json={"note": "lgtm"},
    )
    assert refused.status_code == 403 and refused.json()["type"].endswith("/checker-not-human")

    # A human the maker created, and one created by that human: not a second person either.
    made_human = identity.create_principal(
        "acme", "carol", PrincipalKind.HUMAN, {Role.ADMIN}, created_by=admin.principal_id
    )
    grandchild = identity.create_principal(
        "acme",
        "dave",
        PrincipalKind.HUMAN,
        {Role.COMPLIANCE_OFFICER},
        created_by=made_human.principal_id,
    )
    for puppet_human in (made_human, grandchild):
        identity.set_roles(puppet_human.principal_id, {Role.COMPLIANCE_OFFICER})
        for verb in ("approve", "reject"):
            # Stepped up (enrolled afresh, so the code is new), and still not a second person.
            step_up = SecondFactor(kernel, puppet_human).header()
            response = http.post(
                f"/v1/payments/{payment_id}/{verb}",
                headers={**_headers(kernel, puppet_human), **step_up},
            )
            assert response.status_code == 403, response.text
            assert response.json()["type"].endswith("/checker-not-independent")
    assert kernel.payments.get(payment_id, "acme").status.value == "decided"

    # An independent human (provisioned from the host) is the second person.
    officer = identity.create_principal(
        "acme", "erin", PrincipalKind.HUMAN, {Role.COMPLIANCE_OFFICER}
    )
    step_up = SecondFactor(kernel, officer).header()
    approved = http.post(
        f"/v1/payments/{payment_id}/approve",
        headers={**_headers(kernel, officer), **step_up},
        json={},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approvals"][0]["by"] == officer.principal_id


def test_the_human_behind_an_agent_is_not_its_second_person(kernel: Kernel) -> None:
    identity = kernel.identity
    alice = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    bot = identity.create_principal(
        "acme", "bot", PrincipalKind.AGENT, {Role.AGENT}, created_by=alice.principal_id
    )
    sub = identity.create_principal(
        "acme", "sub", PrincipalKind.SERVICE, {Role.AGENT}, created_by=bot.principal_id
    )
    bob = identity.create_principal("acme", "bob", PrincipalKind.HUMAN, {Role.ADMIN})
    lookup = identity.get_principal
    for maker in (bot, sub):
        with pytest.raises(Forbidden, match="human behind"):
            require_second_person(lookup, maker.principal_id, alice.principal_id)
        require_second_person(lookup, maker.principal_id, bob.principal_id)
    with pytest.raises(Forbidden):
        require_second_person(lookup, bob.principal_id, bob.principal_id)


def test_agents_made_by_a_platform_admin_act_for_no_tenant_human(kernel: Kernel) -> None:
    identity = kernel.identity
    root = identity.create_principal("*", "root", PrincipalKind.SERVICE, {Role.PLATFORM_ADMIN})
    bot = identity.create_principal(
        "acme", "bot", PrincipalKind.AGENT, {Role.AGENT}, created_by=root.principal_id
    )
    officer = identity.create_principal(
        "acme", "erin", PrincipalKind.HUMAN, {Role.COMPLIANCE_OFFICER}, created_by=root.principal_id
    )
    require_second_person(identity.get_principal, bot.principal_id, officer.principal_id)


def test_a_creation_cycle_terminates(kernel: Kernel) -> None:
    identity = kernel.identity
    a = identity.create_principal("acme", "a", PrincipalKind.HUMAN, {Role.ADMIN})
    b = identity.create_principal(
        "acme", "b", PrincipalKind.HUMAN, {Role.ADMIN}, created_by=a.principal_id
    )
    SqlRunner(kernel.db).run(
        "UPDATE identity_principals SET created_by = ? WHERE principal_id = ?",
        (b.principal_id, a.principal_id),
    )
    with pytest.raises(Forbidden):
        require_second_person(identity.get_principal, a.principal_id, b.principal_id)


def test_a_factor_the_maker_handed_out_does_not_make_a_second_person(kernel: Kernel) -> None:
    """The hole left by the first fix: a tenant admin issues an independent human's
    enrolment token (which resets that human's factor), enrols as them, and approves."""
    identity = kernel.identity
    admin = identity.create_principal("acme", "adm", PrincipalKind.HUMAN, {Role.ADMIN})
    maker = {**_headers(kernel, admin), **SecondFactor(kernel, admin).header()}
    payment_id = _wire_in_review(kernel, _headers(kernel, admin))
    bob = identity.create_principal("acme", "bob", PrincipalKind.HUMAN, {Role.COMPLIANCE_OFFICER})
    http = anonymous_client(kernel)
    issued = http.post(f"/v1/identity/principals/{bob.principal_id}/totp-enrolment", headers=maker)
    assert issued.status_code in (200, 201), issued.text
    bob_key = _headers(kernel, bob)
    started = http.post(
        "/v1/identity/me/totp",
        headers=bob_key,
        json={"enrolment_token": issued.json()["enrolment_token"]},
    )
    assert started.status_code == 201, started.text
    totp = pyotp.TOTP(started.json()["secret"])
    confirmed = http.post(
        "/v1/identity/me/totp/confirm",
        headers=bob_key,
        json={"code": totp.at(kernel.clock.now())},
    )
    assert confirmed.status_code == 200, confirmed.text
    refused = http.post(
        f"/v1/payments/{payment_id}/approve",
        headers={**bob_key, "X-Paygod-TOTP": totp.at(kernel.clock.now().timestamp() + 30)},
        json={},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/checker-factor-from-maker")
    assert kernel.payments.get(payment_id, "acme").status.value == "decided"
    # Re-enrolled from the host, Bob is the second person he is.
    step_up = SecondFactor(kernel, bob).header()
    approved = http.post(
        f"/v1/payments/{payment_id}/approve", headers={**bob_key, **step_up}, json={}
    )
    assert approved.status_code == 200, approved.text
