"""Packs read a subject's KYC as `measure.kyc.level` and `measure.kyc.verified_at`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings

PACK = """api_version: "paygod/v1"
kind: Pack
metadata:
  name: "kyc-gate"
  version: "1.0.0"
  description: "Large payouts need full KYC."
spec:
  inputs:
    - name: "payout"
      type: "observation"
      source: "caller"
      required: true
      schema: {type: "object"}
  policy:
    rules:
      - name: "deny-without-kyc"
        condition: "measure.kyc.level == 'none'"
        decision: "deny"
        reason: "No KYC on record."
      - name: "review-basic"
        condition: "measure.kyc.level == 'basic'"
        decision: "flag"
        reason: "Only basic KYC."
      - name: "allow-full"
        condition: "measure.kyc.level == 'full' and measure.kyc.verified_at != null"
        decision: "allow"
        reason: "Full KYC."
"""


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    packs = tmp_path / "packs" / "kyc-gate"
    packs.mkdir(parents=True)
    (packs / "pack.yaml").write_text(PACK)
    built = build_kernel(
        load_settings(home=tmp_path / "home", packs=tmp_path / "packs", database_url=None)
    )
    yield built
    built.close()


def decide(kernel: Kernel, subject: str) -> dict[str, object]:
    return kernel.decisions.decide(
        subject=subject, context={}, input={"payout": {"amount_minor": 10}}, packs=["kyc-gate"]
    )


def test_the_pack_sees_the_subjects_kyc_level(kernel: Kernel) -> None:
    kyc = kernel.compliance.kyc
    assert decide(kernel, "customer:1")["decision"] == "deny"
    kyc.verify("default", {"subject": "customer:1", "check": "identity"}, actor="t")
    assert decide(kernel, "customer:1")["decision"] == "flag"
    kyc.verify("default", {"subject": "customer:1", "check": "document"}, actor="t")
    decided = decide(kernel, "customer:1")
    assert decided["decision"] == "allow"
    names = {m["name"]: m["value"] for m in decided["measurements"]}  # type: ignore[attr-defined]
    assert names["kyc.level"] == "full" and names["kyc.verified_at"]
    replayed = kernel.decisions.replay(decided["ledger"]["seq"])  # type: ignore[index]
    assert replayed["identical"] is True and replayed["today"]["decision"] == "allow"
    assert decide(kernel, "customer:2")["decision"] == "deny"  # another subject
