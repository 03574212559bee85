"""Golden bytes of sealed decisions: the ledger entries, the outbox envelopes and the index
rows written by the decision service, recorded from the code before it was split into a
pipeline (#17). Any change to what is sealed, emitted or indexed changes a digest here.

Ids come from a counter and time from a manual clock, so every byte is reproducible; the
tree heads' signatures (a key made per home) are left out of the responses compared."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uuid_utils

from paygod.bootstrap import Kernel, build_kernel
from paygod.canonical import sha256_hex
from paygod.decisions.packs import DEFAULT_PACKS_DIR
from paygod.governance import service as governance_service
from paygod.governance.model import Stage
from paygod.kernel.clock import ManualClock
from paygod.ledger.service import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PACK = "agent-payment-limits"


@pytest.fixture
def kernel(paygod_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Kernel]:
    counter = iter(range(1, 1_000_000))
    monkeypatch.setattr(
        uuid_utils, "uuid7", lambda: f"00000000-0000-7000-8000-{next(counter):012d}"
    )
    packs = tmp_path / "packs"
    shutil.copytree(DEFAULT_PACKS_DIR, packs, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PAYGOD_PACKS", str(packs))
    # A shadow's evaluation time is sealed beside its verdict: frozen here.
    monkeypatch.setattr(
        governance_service,
        "time",
        SimpleNamespace(perf_counter=lambda: 0.0, monotonic=time.monotonic, time=time.time),
    )
    # Governance seals a challenger's path under the home: relative, it is the same each run.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAYGOD_HOME", "home")
    clock = ManualClock(START)
    k = build_kernel(clock=clock, ledger=LedgerService(MemoryLedgerStore(), clock))
    try:
        yield k
    finally:
        k.close()


def payment(amount: int, rail: str = "sepa", verified: bool = True) -> dict[str, Any]:
    return {
        "payment": {
            "amount_minor": amount,
            "currency": "EUR",
            "rail": rail,
            "counterparty": {"ref": "urn:paygod:cp:acme", "verified": verified},
        }
    }


def shadow_challenger(kernel: Kernel, tmp_path: Path) -> None:
    """A stricter challenger of the limits pack, in shadow: it rides on every decision."""
    target = tmp_path / "challenger"
    shutil.copytree(
        DEFAULT_PACKS_DIR / PACK, target, ignore=shutil.ignore_patterns("__pycache__", "tests")
    )
    text = (target / "pack.yaml").read_text()
    text = text.replace("amount_minor > 500000)", "amount_minor > 100000)")
    text = re.sub(r'(?m)^(  version: )"[^"]+"', r'\1"9.1.0"', text, count=1)
    (target / "pack.yaml").write_text(text)
    kernel.governance.propose(target, actor="alice")
    kernel.governance.promote(PACK, Stage.SHADOW, actor="alice")


def response_view(response: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in response.items() if k != "receipt"}
    view["ledger"] = {k: v for k, v in response["ledger"].items() if k != "tree_head"}
    return view


def digest(value: Any) -> str:
    return sha256_hex(value)[:16]


def seal_all(kernel: Kernel, tmp_path: Path) -> list[dict[str, Any]]:
    service, clock = kernel.decisions, kernel.decisions.clock
    assert isinstance(clock, ManualClock)
    responses = []

    def decide(key: str | None, **body: Any) -> None:
        body.setdefault("subject", "urn:paygod:agent:7")
        body.setdefault("context", {"channel": "api"})
        responses.append(service.decide(**body, idempotency_key=key, requested_by="ops"))
        clock.advance(30)

    decide("allow", input=payment(1000))
    decide("deny", input=payment(1000, verified=False), packs=[PACK])
    decide("review", input=payment(1_200_000, rail="wire"))
    decide(None, input=payment(2000, rail="card"), context={"evidence_refs": ["urn:x:doc:1"]})
    decide(
        "risky",
        subject="urn:paygod:agent:8",
        input=payment(3000),
        context={"device_ref": "urn:paygod:device:d1", "country": "FR"},
    )
    shadow_challenger(kernel, tmp_path)
    decide("shadowed", input=payment(200_000, rail="card"), packs=[PACK])
    decide("shadowed", input=payment(200_000, rail="card"), packs=[PACK])  # a repeat: unsealed
    return responses


def test_sealed_entries_events_and_index_rows_are_byte_identical(
    kernel: Kernel, tmp_path: Path
) -> None:
    responses = seal_all(kernel, tmp_path)
    ledger = kernel.decisions.ledger
    entries = [(e.seq, e.kind, e.record_hash[:16], digest(e.data())) for e in ledger.entries()]
    outbox = [digest(row) for row in ledger.outbox]
    rows = [
        digest(kernel.decisions.index.by_id(r["decision_id"]).__dict__)  # type: ignore[union-attr]
        for r in responses
    ]
    views = [digest(response_view(r)) for r in responses]
    verdicts = [(r["decision"], r["rule"], r["replayed"]) for r in responses]
    assert ledger.get(responses[5]["ledger"]["seq"]).payload["shadow"]  # type: ignore[union-attr]
    assert verdicts == GOLDEN_VERDICTS
    assert entries == GOLDEN_ENTRIES
    assert outbox == GOLDEN_OUTBOX
    assert rows == GOLDEN_ROWS
    assert views == GOLDEN_VIEWS


GOLDEN_VERDICTS: list[Any] = [
    ("allow", "allow-within-limits", False),
    ("deny", "deny-unverified-counterparty", False),
    ("flag", "flag-wire-review", False),
    ("allow", "allow-within-limits", False),
    ("allow", "allow-within-limits", False),
    ("allow", "allow-within-limits", False),
    ("allow", "allow-within-limits", True),
]
GOLDEN_ENTRIES: list[Any] = [
    (0, "pack", "ccba0ce34bd4768c", "7d550319e0baa730"),
    (1, "risk.assessment", "80910344afef5d7f", "e862043a5e0637e4"),
    (2, "measurement", "e70f0d2d33c9770c", "1bed3c086e9d58bc"),
    (3, "evidence", "f5292bf3bf3dda45", "09e10fe529b263af"),
    (4, "decision", "a36ba2fad58ac481", "a13aceebfb1ac635"),
    (5, "risk.assessment", "8523535ef1755490", "30a704c6536bed5a"),
    (6, "measurement", "a4da03ae9bb9c1f5", "af11faf4f0136dae"),
    (7, "evidence", "97c69d0ab728a0dd", "71739b94f28f16f9"),
    (8, "decision", "670b40c6119c4e36", "076ff327b5226625"),
    (9, "risk.assessment", "914fc2fa055ebfb5", "bec1c4d15669aaf2"),
    (10, "measurement", "c2073291fa548141", "7ad150cea13a26d4"),
    (11, "evidence", "e954374229eebd84", "6ed947320abf7440"),
    (12, "decision", "6b92b272ee172386", "d2f5dded446cb549"),
    (13, "risk.assessment", "547de2f3366501a3", "f0aec69ecd36bd0f"),
    (14, "measurement", "095c7584b8b82cf3", "6ab4bbc53b7342d4"),
    (15, "evidence", "debadeb1578092bc", "ba4765ef1a0fcf54"),
    (16, "decision", "e56c8b3b7c7d8792", "f654314c38b97e1a"),
    (17, "risk.assessment", "16c78f391bc3f51b", "53cc329f2e3fe846"),
    (18, "measurement", "ed2ffb4554f7048d", "33b41587868d73a1"),
    (19, "evidence", "8cdf74a53eafc12b", "3fb59ca812fb9a26"),
    (20, "decision", "896a4061892edc47", "d190ef5587e389f1"),
    (21, "policy.stage", "906954385fa8a5b0", "c71b63d0ce94f237"),
    (22, "policy.stage", "724b82f608bff6e4", "2be4fc8c88821d58"),
    (23, "risk.assessment", "97a27ec4cd9dcb07", "8ccac6704787451c"),
    (24, "measurement", "a3048ddbb63dc97f", "ff2f1fec9e061d77"),
    (25, "evidence", "20654536ae1cb9e8", "b26ae320ac885a96"),
    (26, "decision", "d67d11de1db3c235", "b041954c81473280"),
]
GOLDEN_OUTBOX: list[Any] = [
    "59571ef5d1295e91",
    "ed3ec19bdd0e90d5",
    "211902f2a72c1f2b",
    "3c42469166217235",
    "0c886fccef9d5a87",
    "74cf6ef61bc2f0cd",
    "e0c6f953b730111c",
    "cd7e3418e5fc5cbc",
]
GOLDEN_ROWS: list[Any] = [
    "2edf4f96dc89c9ac",
    "2b2f26022a2fc69d",
    "7f70b4fcf093676b",
    "510bf7ba82239df7",
    "6df5a1dcacda2f23",
    "72349da1f9f50d52",
    "72349da1f9f50d52",
]
GOLDEN_VIEWS: list[Any] = [
    "98162407a21c2203",
    "27a7143886b2a068",
    "3236dab13a71d490",
    "ad105f229557189a",
    "1e9ddc503ad28fa5",
    "bb3edbef6d1af876",
    "13c2ff1e71197c8e",
]


@pytest.mark.parametrize(
    ("rail", "amount", "verified", "golden"),
    [
        ("sepa", 1000, True, "GOLDEN_ALLOW"),
        ("sepa", 1000, False, "GOLDEN_DENY"),
        ("wire", 1_200_000, True, "GOLDEN_FLAG"),
    ],
)
def test_run_bundles_are_byte_identical(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rail: str,
    amount: int,
    verified: bool,
    golden: str,
) -> None:
    """`paygod run` twice into one directory (the ledger.jsonl chain grows)."""
    from paygod.decisions.bundle import run_pack

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAYGOD_CLOCK", "2026-03-01T09:00:00Z")
    for name in ("PAYGOD_RUNNER_IMAGE", "PAYGOD_RUNNER_DIGEST"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(DEFAULT_PACKS_DIR / PACK, "pack", ignore=shutil.ignore_patterns("__pycache__"))
    body = payment(amount, rail, verified)
    Path("input.json").write_text(json.dumps(body))
    for _ in range(2):
        run_pack(Path("pack"), Path("input.json"), Path("out"), ManualClock(START))
    found = sorted((p.name, digest(p.read_text())) for p in Path("out").iterdir())
    assert found == GOLDEN_BUNDLES[golden]


GOLDEN_BUNDLES: dict[str, Any] = {
    "GOLDEN_ALLOW": [
        ("findings.json", "d961718ff012707b"),
        ("ledger.jsonl", "6b19a8e762966031"),
        ("manifest.json", "be3d1859dd96a827"),
        ("plan.json", "168a0fd1ca1f5195"),
        ("receipt.json", "072f7900dc3ed22f"),
    ],
    "GOLDEN_DENY": [
        ("findings.json", "d961718ff012707b"),
        ("ledger.jsonl", "b713cbe0ac1e2306"),
        ("manifest.json", "4b0d36276be86f7b"),
        ("plan.json", "9147ae30cbb0bca6"),
        ("receipt.json", "0d2da4bf45dbd79f"),
    ],
    "GOLDEN_FLAG": [
        ("findings.json", "d9e7b421592b6e48"),
        ("ledger.jsonl", "1f714d97cd8fa2e0"),
        ("manifest.json", "9c659d4bcceac0a5"),
        ("plan.json", "2cb6ca1af36ca4ae"),
        ("receipt.json", "92ad84032c2826a1"),
    ],
}
