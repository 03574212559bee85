"""`paygod relay`, `paygod events status` and `paygod events tail` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli
from tests.support.requests import decision_body

pytestmark = pytest.mark.xdist_group("nats")


@pytest.fixture
def env(paygod_home: Path, nats_url: str, nats_namespace: str) -> Iterator[dict[str, str]]:
    yield {"PAYGOD_NATS_URL": nats_url, "PAYGOD_NATS_NAMESPACE": nats_namespace}


def test_decisions_are_relayed_and_tailed(
    paygod_home: Path, tmp_path: Path, env: dict[str, str], nats_namespace: str
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(decision_body()["input"]))
    for _ in range(3):
        decided = run_cli("decide", "--input", str(request), "--json", env=env)
        assert decided.code == 0, decided.stderr

    before = run_cli("events", "status", "--json", env=env)
    assert before.code == 0, before.stderr
    assert json.loads(before.stdout)["pending"] == 3

    relayed = run_cli("relay", "--once", "--json", env=env)
    assert relayed.code == 0, relayed.stderr
    assert json.loads(relayed.stdout) | {"error": None} == {
        "published": 3, "duplicates": 0, "skipped": 0, "error": None, "pending": 0,
    }  # fmt: skip
    after = json.loads(run_cli("events", "status", "--json", env=env).stdout)
    assert (after["published"], after["pending"], after["holder"]) == (3, 0, None)

    tailed = run_cli("events", "tail", "--from-start", "--count", "3", "--idle", "5", env=env)
    assert tailed.code == 0, tailed.stderr
    lines = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert [line["subject"] for line in lines] == [
        f"{nats_namespace}.default.decision.finalized"
    ] * 3
    assert [line["entry_seq"] for line in lines] == sorted(line["entry_seq"] for line in lines)
    assert all(line["event"]["event_type"] == "decision.finalized" for line in lines)


def test_bad_options_are_one_line_and_exit_2(paygod_home: Path, env: dict[str, str]) -> None:
    no_nats = run_cli("relay", "--once")
    assert no_nats.code == 2 and "PAYGOD_NATS_URL" in no_nats.stderr
    assert len(no_nats.stderr.strip().splitlines()) == 1
    bad_type = run_cli("events", "tail", "--type", "Payment.Settled", env=env)
    assert bad_type.code == 2 and "dotted lower-case" in bad_type.stderr
    bad_ns = run_cli("events", "status", env={**env, "PAYGOD_NATS_NAMESPACE": "Not OK"})
    assert bad_ns.code == 2 and "PAYGOD_NATS_NAMESPACE" in bad_ns.stderr


def test_an_unreachable_nats_fails_fast_with_exit_3(paygod_home: Path, tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(decision_body()["input"]))
    assert run_cli("decide", "--input", str(request)).code == 0
    down = run_cli("relay", "--once", "--json", "--nats", "nats://127.0.0.1:1")
    assert down.code == 3, down.stderr
    assert down.stderr.strip().splitlines()[-1].startswith("error: relay stopped early")
    assert json.loads(down.stdout)["pending"] == 1  # nothing was marked as published
    bad = run_cli("events", "tail", "--nats", "http://127.0.0.1:4222")
    assert bad.code == 2 and "expected nats://HOST:PORT" in bad.stderr


def test_doctor_speaks_jetstream(paygod_home: Path, env: dict[str, str]) -> None:
    up = run_cli("doctor", "--json", env=env)
    assert up.code == 0, up.stderr
    nats = next(c for c in json.loads(up.stdout)["checks"] if c["name"] == "nats")
    assert nats["status"] == "pass" and "JetStream ok" in nats["detail"]
    down = run_cli("doctor", "--json", env={**env, "PAYGOD_NATS_URL": "nats://127.0.0.1:1"})
    assert down.code == 3
    nats = next(c for c in json.loads(down.stdout)["checks"] if c["name"] == "nats")
    assert nats["status"] == "fail" and "unreachable" in nats["detail"]
