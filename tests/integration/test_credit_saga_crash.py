"""kill -9 the worker at each step of the credit application saga (before the step's
result is sealed, and after it is sealed but before its message is acknowledged), restart:
the application finishes once — every transition and every saga event exactly once, the
ledger verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paygod.bootstrap import build_kernel
from paygod.credit.model import ApplicationStatus

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from paygod.bootstrap import build_kernel

    step, phase = sys.argv[1], sys.argv[2]
    kernel = build_kernel()
    kernel.lending.inline = False
    kernel.executor.lease_seconds = 0.3
    saga = kernel.lending.saga
    original = getattr(saga, "_" + step)

    def crashing(application):
        if phase == "before-seal":
            os.kill(os.getpid(), signal.SIGKILL)
        original(application)
        os.kill(os.getpid(), signal.SIGKILL)  # sealed, its message not yet acknowledged

    setattr(saga, "_" + step, crashing)
    kernel.executor.drain()
    sys.exit(3)  # never reached: the step above kills this process
    """
)
# `decide` is sealed in the assess step's transaction (saga.py): it runs on its own only
# after an assess step sealed on an earlier run's decision, so it has no crash point here.
STEPS = ["checks", "assess"]
EVENTS = [
    "CreditApplicationCreated",
    "ComplianceCheckCompleted",
    "RiskAssessmentCompleted",
    "ApplicationProcessed",
]


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["before-seal", "after-seal"])
@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_each_saga_step_then_restart(
    paygod_home: Path, tmp_path: Path, step: str, phase: str
) -> None:
    kernel = build_kernel()
    try:
        kernel.lending.inline = False
        application, _ = kernel.lending.submit(
            {
                "product_id": "personal-term-loan",
                "applicant_ref": "urn:applicant:prime",
                "amount": 1_000_000,
                "currency": "USD",
                "payments": 36,
                "monthly_income": 700_000,
            },
            tenant_id="default",
            applicant="agent-a",
        )
    finally:
        kernel.close()
    script = tmp_path / "crash_worker.py"
    script.write_text(CHILD)
    env = {**os.environ, "PAYGOD_HOME": str(paygod_home), "PAYGOD_LOG_LEVEL": "error"}
    child = subprocess.run(
        [sys.executable, str(script), step, phase], env=env, timeout=120, capture_output=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]

    time.sleep(0.4)  # the dead worker's lease runs out
    kernel = build_kernel()
    try:
        kernel.executor.drain()
        application_id = application.application_id
        final = kernel.lending.get(application_id)
        assert final.status is ApplicationStatus.OFFERED
        transitions = [h["transition"] for h in kernel.lending.history(application_id)]
        assert transitions == ["submitted", "checked", "assessed", "offered"]
        conn = kernel.db.connect()  # type: ignore[union-attr]
        try:
            rows = conn.execute(
                "SELECT event_type, status FROM outbox WHERE aggregate_id = ? ORDER BY entry_seq",
                (application_id,),
            ).fetchall()
        finally:
            conn.close()
        assert [r[0] for r in rows] == EVENTS
        assert {r[1] for r in rows} == {"done"}, rows
        assert kernel.ledger.verify().findings == ()
    finally:
        kernel.close()
