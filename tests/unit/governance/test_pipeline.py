"""The promotion pipeline on a real kernel: a challenger shadows live traffic, wins its gate
on reviewed outcomes, goes to canary, breaches its SLO and is rolled back; every step is in
the ledger, and each decision names the version that made it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.decisions.packs import DEFAULT_PACKS_DIR
from paygod.governance.model import IllegalTransition, Stage
from paygod.governance.rollback import RollbackPolicy
from paygod.governance.service import EVENT_ROLLBACK, KIND, subject_of
from paygod.kernel.errors import Conflict, InvalidInput, NotFound

PACK = "agent-payment-limits"


@pytest.fixture
def kernel(paygod_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Kernel]:
    packs = tmp_path / "packs"
    shutil.copytree(DEFAULT_PACKS_DIR, packs, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PAYGOD_PACKS", str(packs))
    k = build_kernel()
    try:
        yield k
    finally:
        k.close()


def challenger_dir(tmp_path: Path, replace: tuple[str, str], version: str = "9.1.0") -> Path:
    source = DEFAULT_PACKS_DIR / PACK
    target = tmp_path / f"challenger-{version}"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    text = (target / "pack.yaml").read_text()
    assert replace[0] in text
    text = re.sub(r'(?m)^(  version: )"[^"]+"', rf'\1"{version}"', text.replace(*replace), count=1)
    (target / "pack.yaml").write_text(text)
    return target


def decide(kernel: Kernel, subject: str, amount: int) -> dict[str, Any]:
    return kernel.decisions.decide(
        subject=subject,
        context={},
        input={
            "payment": {
                "amount_minor": amount,
                "currency": "EUR",
                "rail": "card",
                "counterparty": {"ref": "urn:paygod:cp:acme", "verified": True},
            }
        },
        packs=[PACK],
    )


def test_shadow_then_gate_then_canary_then_automatic_rollback(
    kernel: Kernel, tmp_path: Path
) -> None:
    governance = kernel.governance
    # The challenger caps card payments at 1,000.00 instead of 5,000.00.
    stricter = challenger_dir(tmp_path, ("amount_minor > 500000)", "amount_minor > 100000)"))
    proposed = governance.propose(stricter, actor="alice")
    assert proposed["challenger"]["stage"] == "draft"
    with pytest.raises(IllegalTransition):
        governance.promote(PACK, Stage.ACTIVE, actor="alice")
    governance.promote(PACK, Stage.SHADOW, actor="alice")

    decisions = [
        decide(kernel, f"urn:paygod:agent:{i}", 200_000 if i % 2 else 50_000) for i in range(40)
    ]
    assert all(d["decision"] == "allow" for d in decisions)  # the champion decides
    sealed = kernel.ledger.get(decisions[1]["ledger"]["seq"]).payload
    (shadow,) = sealed["shadow"]
    assert shadow["decision"] == "deny" and shadow["version"] == "9.1.0"
    status = governance.status(PACK)[0]["challenger"]
    assert status["shadow"]["compared"] == 40
    assert status["shadow"]["agreement_rate"] == pytest.approx(0.5)
    assert {"champion": "allow", "challenger": "deny", "count": 20} in status["shadow"]["confusion"]
    assert status["shadow"]["differing"][0]["challenger"]["rule"] == "deny-over-rail-limit"

    # No reviewed outcomes yet: the gate refuses, and says why.
    with pytest.raises(Conflict, match="sample 0 below the minimum"):
        governance.promote(PACK, Stage.CANARY, actor="alice", percent=50, minimum_sample=30)
    for d in decisions[1::2]:  # reviewers say the 2,000.00 card payments should be denied
        governance.record_outcome(
            PACK,
            decision_id=d["decision_id"],
            champion="allow",
            challenger="deny",
            correct="deny",
            actor="reviewer",
        )
    for d in decisions[0::2][:15]:
        governance.record_outcome(
            PACK,
            decision_id=d["decision_id"],
            champion="allow",
            challenger="allow",
            correct="allow",
            actor="reviewer",
        )
    promoted = governance.promote(PACK, Stage.CANARY, actor="alice", percent=50, minimum_sample=30)
    assert promoted["challenger"]["stage"] == "canary"
    gate_entry = governance.history(PACK)[-1]
    assert gate_entry["gate"]["passed"] is True and gate_entry["gate"]["statistic"] >= 0.95
    # The operator steps the share from another process (the CLI); this kernel reads it back.
    from typer.testing import CliRunner

    from paygod.cli.main import app

    stepped = CliRunner().invoke(app, ["packs", "canary", PACK, "--percent", "60", "--json"])
    assert stepped.exit_code == 0, stepped.output
    governance.refresh(force=True)
    assert governance.status(PACK)[0]["challenger"]["canary_percent"] == 60
    assert governance.history(PACK)[-1]["step"] == "percent"

    # On the canary, the challenger refuses far more often: an SLO breach, rolled back.
    governance.rollback_policy = RollbackPolicy(min_sample=20, max_drift=0.05)
    governance.check_every = 10
    arms = {"canary": 0, "champion": 0}
    for i in range(400):
        d = decide(kernel, f"urn:paygod:agent:c{i}", 200_000)
        version = next(p["version"] for p in d["packs"] if p["name"] == PACK)
        arms["canary" if version == "9.1.0" else "champion"] += 1
        if governance.status(PACK)[0]["challenger"] is None:
            break
    assert governance.status(PACK)[0]["challenger"] is None, arms
    assert arms["canary"] > 0 and arms["champion"] > 0
    last = governance.history(PACK)[-1]
    assert last["stage"] == "retired" and last["rollback"] is True
    assert last["breach"]["slo"] == "refusal_drift" and last["actor"] == "paygod:slo-guard"
    # Back to the champion in one step.
    after = decide(kernel, "urn:paygod:agent:after", 200_000)
    assert after["decision"] == "allow"
    assert next(p["version"] for p in after["packs"] if p["name"] == PACK) != "9.1.0"
    entries = kernel.ledger.history(subject_of(PACK))
    stages = [e.payload["stage"] for e in entries if e.kind == KIND]
    assert stages == ["draft", "shadow", "canary", "canary", "retired"]  # canary: 50 %, then 60 %
    queued = [
        m
        for status in ("pending", "done", "dead")
        for m in kernel.executor.store.list(status, limit=10_000)
    ]
    assert any(m.event_type == EVENT_ROLLBACK and m.aggregate_id == PACK for m in queued)
    assert kernel.ledger.verify().ok


def test_bad_requests_change_nothing(kernel: Kernel, tmp_path: Path) -> None:
    governance = kernel.governance
    with pytest.raises(NotFound):
        governance.promote(PACK, Stage.SHADOW, actor="alice")
    same = tmp_path / "same"
    shutil.copytree(DEFAULT_PACKS_DIR / PACK, same, ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.raises(Conflict, match="active version already"):
        governance.propose(same, actor="alice")
    governance.propose(
        challenger_dir(tmp_path, ("velocity_1h >= 20", "velocity_1h >= 10")), actor="a"
    )
    with pytest.raises(Conflict, match="has a challenger"):
        governance.propose(
            challenger_dir(tmp_path, ("velocity_1h >= 20", "velocity_1h >= 5"), "9.2.0"), actor="a"
        )
    governance.promote(PACK, Stage.SHADOW, actor="a")
    before = kernel.ledger.size
    with pytest.raises(InvalidInput, match="percentage"):
        governance.promote(PACK, Stage.CANARY, actor="a", percent=150, minimum_sample=0)
    with pytest.raises(IllegalTransition):
        governance.promote(PACK, Stage.DRAFT, actor="a")
    assert kernel.ledger.size == before
    assert governance.status(PACK)[0]["challenger"]["stage"] == "shadow"


def test_a_restarted_kernel_reads_the_stage_back(
    paygod_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(DEFAULT_PACKS_DIR, packs, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PAYGOD_PACKS", str(packs))
    first = build_kernel()
    first.governance.propose(
        challenger_dir(tmp_path, ("velocity_1h >= 20", "velocity_1h >= 10")), actor="a"
    )
    first.governance.promote(PACK, Stage.SHADOW, actor="a")
    first.close()
    second = build_kernel()
    try:
        assert second.governance.status(PACK)[0]["challenger"]["stage"] == "shadow"
        d = decide(second, "urn:paygod:agent:r", 1000)
        assert second.ledger.get(d["ledger"]["seq"]).payload["shadow"][0]["version"] == "9.1.0"
    finally:
        second.close()


def test_cli_outcome_reads_both_verdicts_from_the_sealed_decision(
    kernel: Kernel, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from paygod.cli.main import app

    kernel.governance.propose(
        challenger_dir(tmp_path, ("amount_minor > 500000)", "amount_minor > 100000)")), actor="a"
    )
    kernel.governance.promote(PACK, Stage.SHADOW, actor="a")
    d = decide(kernel, "urn:paygod:agent:o", 200_000)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["packs", "outcome", PACK, "--decision", d["decision_id"], "--correct", "deny", "--json"],
    )
    assert result.exit_code == 0, result.output
    kernel.governance.refresh()
    outcome = [e for e in kernel.governance.history(PACK) if e["kind"] == "policy.outcome"][-1]
    assert (outcome["champion"], outcome["challenger"], outcome["correct"]) == (
        "allow",
        "deny",
        "deny",
    )
    bad = runner.invoke(
        app, ["packs", "outcome", PACK, "--decision", d["decision_id"], "--correct", "maybe"]
    )
    assert bad.exception is not None and "correct must be one of" in str(bad.exception)
