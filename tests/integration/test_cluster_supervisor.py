"""The supervisor with real child processes (tiny Python programs, no Paygod start-up)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from paygod.cluster.supervisor import ChildSpec, Supervisor, cluster_specs

SLEEPER = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"]


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_a_killed_child_is_restarted_and_stop_ends_every_child() -> None:
    sup = Supervisor([ChildSpec("a", SLEEPER), ChildSpec("b", SLEEPER)], grace_seconds=5)
    sup.start()
    try:
        sup.wait_ready(5)
        first = sup.children["a"].pid
        assert sup.kill("a") == first
        wait_for(lambda: (sup.check_once(), sup.children["a"].pid != first)[1])
        wait_for(lambda: sup.children["a"].process.poll() is None)  # type: ignore[union-attr]
        assert sup.children["b"].restarts == type(sup.children["b"].restarts)()
    finally:
        codes = sup.stop()
    assert set(codes) == {"a", "b"}
    assert all(code == -signal.SIGTERM for code in codes.values())
    for child in sup.children.values():
        assert child.process is not None and child.process.poll() is not None


def test_a_child_that_keeps_dying_stops_the_cluster_with_a_reason() -> None:
    crash = [sys.executable, "-c", "raise SystemExit(3)"]
    sup = Supervisor([ChildSpec("flaky", crash)])
    sup.start()
    try:
        for child in sup.children.values():
            child.backoff = 0.0  # no waiting between restarts in this test
        deadline = time.monotonic() + 30
        while sup.failed is None and time.monotonic() < deadline:
            sup.check_once()
            sup.children["flaky"].backoff = 0.0
            time.sleep(0.05)
    finally:
        sup.stop()
    assert sup.failed is not None
    assert "flaky exited 5 times" in sup.failed and "exit code 3" in sup.failed


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(tmp_path / 'up')!r}, 'w').close()\nwhile True: time.sleep(0.05)",
    ]
    sup = Supervisor([ChildSpec("stubborn", stubborn)], grace_seconds=0.5)
    sup.start()
    wait_for(lambda: (tmp_path / "up").exists())
    codes = sup.stop()
    assert codes == {"stubborn": -signal.SIGKILL}


def test_start_up_failure_is_reported_not_waited_out() -> None:
    sup = Supervisor([ChildSpec("broken", [sys.executable, "-c", "raise SystemExit(2)"])])
    sup.start()
    try:
        with pytest.raises(RuntimeError, match="exited during start-up: broken"):
            sup.wait_ready(10)
    finally:
        sup.stop()


def test_cluster_specs_turn_the_embedded_worker_off_when_workers_run_apart() -> None:
    specs = cluster_specs(host="127.0.0.1", port=9000, api=2, workers=3, relay=True)
    assert [s.name for s in specs] == ["api", "worker-1", "worker-2", "worker-3", "relay"]
    assert specs[0].argv[-6:] == ["--host", "127.0.0.1", "--port", "9000", "--workers", "2"]
    assert specs[0].env == {"PAYGOD_EMBEDDED_WORKER": "false"}
    alone = cluster_specs(host="h", port=1, api=1, workers=0, relay=False)
    assert [s.name for s in alone] == ["api"] and alone[0].env == {"PAYGOD_EMBEDDED_WORKER": "true"}
    assert os.path.basename(specs[1].argv[0]).startswith("python")
