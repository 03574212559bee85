"""A pack decides on the mandate's measurements (`measure.mandate.*`): the example pack
examples/packs/agent-mandates allows within the mandate and denies outside it, and the
sealed decision names the mandate and its digest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind
from paygod.kernel.settings import load_settings
from tests.support.mandates import grant, party

PACK = Path(__file__).parents[2] / "examples" / "packs" / "agent-mandates"


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    packs = tmp_path / "packs"
    shutil.copytree(PACK, packs / "agent-mandates")
    built = build_kernel(load_settings(home=tmp_path / "home", packs=packs))
    try:
        yield built
    finally:
        built.close()


def decide(kernel: Kernel, agent: str, mandate_id: str, amount: int, merchant: str) -> Any:
    return kernel.decisions.decide(
        subject="account:wallet",
        input={"payment": {"amount_minor": amount, "currency": "EUR"}},
        context={"mandate": {"mandate_id": mandate_id, "merchant": merchant}},
        packs=["agent-mandates"],
        requested_by=agent,
        tenant_id="default",
    )


def test_the_pack_reads_the_mandate(kernel: Kernel) -> None:
    human = party(kernel, "alice", PrincipalKind.HUMAN)
    agent = party(kernel, "bot", PrincipalKind.AGENT)
    other = party(kernel, "bot2", PrincipalKind.AGENT)
    mandate = grant(
        kernel, human, agent, {"currency": "EUR", "budget": "50.00", "merchants": ["m-1"]}
    )
    ok = decide(kernel, agent.principal_id, mandate.mandate_id, 2000, "m-1")
    assert ok["decision"] == "allow", ok["reason"]
    measured = {m["name"]: m["value"] for m in ok["measurements"]}
    assert (measured["mandate.id"], measured["mandate.digest"]) == (
        mandate.mandate_id,
        mandate.digest,
    )
    assert (
        decide(kernel, agent.principal_id, mandate.mandate_id, 6000, "m-1")["rule"]
        == "deny-over-mandate"
    )
    assert (
        decide(kernel, agent.principal_id, mandate.mandate_id, 100, "m-9")["rule"]
        == "deny-merchant-not-allowed"
    )
    assert (
        decide(kernel, other.principal_id, mandate.mandate_id, 100, "m-1")["rule"]
        == "deny-invalid-mandate"
    )
    kernel.mandates.service.revoke(
        mandate.mandate_id, tenant_id="default", actor="t", any_mandate=True, reason=None
    )
    assert (
        decide(kernel, agent.principal_id, mandate.mandate_id, 100, "m-1")["rule"]
        == "deny-invalid-mandate"
    )
