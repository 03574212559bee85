"""Foundation: canonicalization throughput and `paygod serve` start-to-ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from json import dumps

import rfc8785

from bench.harness import Figure, benchmark, rate
from paygod.canonical import canonicalize

DOCUMENT = {
    "decision_id": "0193a5f2-7c1e-7b7a-9d7e-1f2a3b4c5d6e",
    "tenant_id": "acme",
    "verdict": "deny",
    "amount": {"minor_units": 1250000, "currency": "EUR"},
    "rules": [
        {"name": f"rule-{i}", "matched": i % 3 == 0, "score": i * 0.125, "reason": "über limit €"}
        for i in range(10)
    ],
    "refs": ["urn:paygod:subject:42", "sha256:" + "ab" * 32],
    "flags": {"pii": False, "cross_border": True, "velocity_1h": 17},
}


@benchmark("canonical")
def canonical() -> Iterator[Figure]:
    baseline = rate(lambda: [dumps(DOCUMENT, sort_keys=True) for _ in range(200)] and 200)
    ours = rate(lambda: [canonicalize(DOCUMENT) for _ in range(200)] and 200)
    library = rate(lambda: [rfc8785.dumps(DOCUMENT) for _ in range(200)] and 200)
    yield Figure("canonicalize_docs_per_s", ours, "docs/s", baseline, "json.dumps(sort_keys=True)")
    yield Figure(
        "rfc8785_library_docs_per_s", library, "docs/s", baseline, "json.dumps(sort_keys=True)"
    )
    # Ledger entries and decisions are mostly integers and strings: the orjson fast path.
    plain = {
        **DOCUMENT,
        "rules": [{**r, "score": i * 125} for i, r in enumerate(DOCUMENT["rules"])],
    }
    plain_baseline = rate(lambda: [dumps(plain, sort_keys=True) for _ in range(200)] and 200)
    plain_ours = rate(lambda: [canonicalize(plain) for _ in range(200)] and 200)
    yield Figure(
        "canonicalize_float_free_docs_per_s",
        plain_ours,
        "docs/s",
        plain_baseline,
        "json.dumps(sort_keys=True)",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _time_to_ready(home: str) -> float:
    port = _free_port()
    env = {**os.environ, "PAYGOD_HOME": home, "PAYGOD_LOG_LEVEL": "warning"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paygod", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("server not ready within 30 s")
    finally:
        proc.terminate()
        proc.wait(10)


@benchmark("serve_ready")
def serve_ready() -> Iterator[Figure]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_start = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as home:
        first = _time_to_ready(home)  # fresh home: creates the database and keys
        warm = min(_time_to_ready(home) for _ in range(3))
    yield Figure("serve_ready_fresh_home_s", first, "s", python_start, "python -c pass")
    yield Figure("serve_ready_s", warm, "s", python_start, "python -c pass")
