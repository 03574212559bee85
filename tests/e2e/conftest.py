"""Drive Paygod as a user does: the real CLI as a subprocess, the real server over HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None
) -> CliResult:
    proc = subprocess.run(
        [sys.executable, "-m", "paygod", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=stdin,
        cwd=cwd,
        timeout=120,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)  # credentials, once identity lands

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            timeout=10.0,
            headers=self.headers,
            **kwargs,  # type: ignore[arg-type]
        )


DEV_KEY_LINE = re.compile(r"dev API key \(shown once[^)]*\): (pg_[a-z0-9]+_\S+)")


def dev_key_headers(home: Path, log_path: Path) -> dict[str, str]:
    """The credentials of the platform-admin dev key a fresh home mints at first start
    (left in PAYGOD_HOME/dev-api-key and printed once on stderr)."""
    key_file = home / "dev-api-key"
    if key_file.is_file():
        return {"Authorization": f"Bearer {key_file.read_text().strip()}"}
    found = DEV_KEY_LINE.search(log_path.read_text(errors="replace"))
    return {"Authorization": f"Bearer {found.group(1)}"} if found else {}


def start_server(
    home: Path, extra_env: dict[str, str] | None = None, *, workers: int = 1
) -> LiveServer:
    port = free_port()
    # A home the test made under the umask: the service user's alone, as Paygod makes its
    # own (a looser one is a readiness warning).
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    env = {
        **os.environ,
        "PAYGOD_HOME": str(home),
        "PAYGOD_LOG_LEVEL": "warning",
        # The live tests drive the server with the dev key only dev mode mints.
        "PAYGOD_DEV_MODE": "true",
        **(extra_env or {}),
    }
    log_path = home.parent / f"server-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - kept for the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "paygod", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return LiveServer(url, home, proc, headers=dev_key_headers(home, log_path))
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not become ready in 90 s")


@pytest.fixture
def live_server(paygod_home: Path) -> Iterator[LiveServer]:
    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(paygod_home)
    try:
        yield server
    finally:
        server.process.terminate()
        server.process.wait(10)
