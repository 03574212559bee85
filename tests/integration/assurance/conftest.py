"""A kernel on SQLite with a pack naming controls, a few sealed decisions and a signed head."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paygod.assurance.model import Period
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings

PACK = """\
api_version: paygod/v1
kind: Pack
metadata:
  name: payout-gate
  version: 1.0.0
  controls: [nist-800-53:si-10]
spec:
  inputs:
    - name: payout
  policy:
    rules:
      - name: deny-big
        condition: input.payout.amount_minor > 1000
        decision: deny
        reason: Too big.
        controls: [nist-800-53:ac-5, pci-dss-4:7.2]
      - name: flag-medium
        condition: input.payout.amount_minor > 500
        decision: flag
        reason: Review.
        controls: [soc2:CC6.1]
      - name: allow-rest
        condition: "true"
        decision: allow
        reason: Fine.
"""

FROM = "2026-01-01T00:00:00Z"
TO = "2026-01-01T00:10:00Z"


@dataclass
class Ledgered:
    kernel: Kernel
    decisions: list[dict[str, object]]
    period: Period


@pytest.fixture
def ledgered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledgered]:
    pack = tmp_path / "packs" / "payout-gate"
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text(PACK)
    monkeypatch.setenv("PAYGOD_CLOCK", "2026-01-01T00:10:00Z")
    kernel = build_kernel(
        load_settings(home=tmp_path / "home", packs=tmp_path / "packs", database_url=None)
    )
    decisions = [
        kernel.decisions.decide(
            subject=f"urn:agent:{i}",
            context={},
            input={"payout": {"amount_minor": amount}},
            packs=["payout-gate"],
            tenant_id="default",
        )
        for i, amount in enumerate([100, 700, 5000, 200])
    ]
    kernel.cases.open_manual(
        "default", subject="urn:agent:2", alert_type="large_payout", note="check", actor="cli:t"
    )
    kernel.ledger.flush_tree_head()
    yield Ledgered(kernel, decisions, Period.parse(FROM, TO))
    kernel.close()
