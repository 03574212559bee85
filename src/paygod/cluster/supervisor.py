"""Starts, watches, restarts and stops the processes of a local cluster.

`paygod cluster --api 2 --workers 2 --relay` is for trying distributed mode on one machine:
one `paygod serve --workers N` (uvicorn keeps its N API processes alive itself), N
`paygod worker` processes and one `paygod relay`. A child that dies is restarted after a
backoff that doubles up to 10 s; one that keeps dying (5 times in a minute) stops the
cluster, because restarting it forever would hide the fault. Stopping sends SIGTERM to every
child (API first, so no new work arrives), waits for a grace period, then SIGKILLs what is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from paygod.kernel.logging import get_logger

log = get_logger("paygod.cluster")

MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    next_start: float = 0.0
    backoff: float = 0.5

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def paygod_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "paygod", *args]


def cluster_specs(
    *,
    host: str,
    port: int,
    api: int,
    workers: int,
    relay: bool,
    worker_args: Sequence[str] = (),
) -> list[ChildSpec]:
    """The children of `paygod cluster`: the API (with `api` processes), workers, the relay."""
    # With dedicated workers, API processes only take requests; without, each drains the outbox.
    api_env = {"PAYGOD_EMBEDDED_WORKER": "false" if workers else "true"}
    specs = [
        ChildSpec(
            "api",
            paygod_argv("serve", "--host", host, "--port", str(port), "--workers", str(api)),
            api_env,
        )
    ]
    specs += [
        ChildSpec(f"worker-{i + 1}", paygod_argv("worker", *worker_args)) for i in range(workers)
    ]
    if relay:
        specs.append(ChildSpec("relay", paygod_argv("relay")))
    return specs


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        env: dict[str, str] | None = None,
        ready_url: str | None = None,
        grace_seconds: float = 10.0,
        stdout: int | None = None,
    ) -> None:
        self.children = {spec.name: Child(spec) for spec in specs}
        self.base_env = {**os.environ, **(env or {})}
        self.ready_url = ready_url
        self.grace_seconds = grace_seconds
        self.stdout = stdout
        self.failed: str | None = None
        self._stop = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        for child in self.children.values():
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.spec.argv,
            env={**self.base_env, **child.spec.env},
            stdout=self.stdout,
            stderr=self.stdout,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the supervisor only
        )
        log.info("cluster_child_started", child=child.spec.name, pid=child.process.pid)

    def wait_ready(self, timeout: float = 60.0, *, settle: float = 1.0) -> None:
        """Until the API answers /readyz with 200 and every child has run `settle` seconds
        (a child that fails on a bad setting exits at once: report that, do not wait it out)."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            dead = [c.spec.name for c in self.children.values() if not self._alive(c)]
            if dead:
                raise RuntimeError(f"exited during start-up: {', '.join(dead)}")
            settled = time.monotonic() - started >= settle
            if settled and (self.ready_url is None or _ready(self.ready_url)):
                return
            time.sleep(0.1)
        raise TimeoutError(f"not ready after {timeout:.0f} s: {self.ready_url}")

    def request_stop(self) -> None:
        """Ask `supervise` to return (safe from a signal handler); `stop()` then ends children."""
        self._stop.set()

    def supervise(self, *, poll: float = 0.2, until: Callable[[], bool] | None = None) -> None:
        """Restart children that exit until `stop()` (or `until()` turns true)."""
        while not self._stop.is_set() and not (until and until()):
            self.check_once()
            if self.failed:
                return
            self._stop.wait(poll)

    def check_once(self) -> None:
        now = time.monotonic()
        with self._lock:
            for child in self.children.values():
                if self._stopping or self._alive(child):
                    continue
                if child.next_start == 0.0:
                    code = child.process.returncode if child.process else None
                    log.warning("cluster_child_exited", child=child.spec.name, code=code)
                    while child.restarts and now - child.restarts[0] > RESTART_WINDOW:
                        child.restarts.popleft()
                    if len(child.restarts) >= MAX_RESTARTS:
                        self.failed = (
                            f"{child.spec.name} exited {MAX_RESTARTS} times within "
                            f"{RESTART_WINDOW:.0f} s (last exit code {code})"
                        )
                        log.error("cluster_child_failing", child=child.spec.name, error=self.failed)
                        return
                    child.next_start = now + child.backoff
                    child.backoff = min(10.0, child.backoff * 2)
                if now >= child.next_start:
                    child.restarts.append(now)
                    child.next_start = 0.0
                    self._spawn(child)

    def restart(self, name: str, *, sig: int = signal.SIGTERM) -> None:
        """Stop one child with `sig` and start it again at once (faults, rolling restarts)."""
        with self._lock:
            child = self.children[name]
            if child.process is not None and child.process.poll() is None:
                os.killpg(child.process.pid, sig)
                try:
                    child.process.wait(self.grace_seconds)
                except subprocess.TimeoutExpired:
                    os.killpg(child.process.pid, signal.SIGKILL)
                    child.process.wait()
            child.backoff = 0.5
            child.next_start = 0.0
            self._spawn(child)

    def kill(self, name: str) -> int | None:
        """SIGKILL one child (a crash); `supervise` brings it back."""
        child = self.children[name]
        if child.process is None or child.process.poll() is not None:
            return None
        os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()
        return child.process.pid

    def stop(self) -> dict[str, int | None]:
        """SIGTERM everything (API first), wait the grace period, SIGKILL the rest."""
        self._stop.set()
        self._stopping = True
        with self._lock:
            order = sorted(self.children.values(), key=lambda c: c.spec.name != "api")
            for child in order:
                if self._alive(child):
                    assert child.process is not None
                    os.killpg(child.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + self.grace_seconds
            codes: dict[str, int | None] = {}
            for child in order:
                if child.process is None:
                    continue
                try:
                    child.process.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("cluster_child_killed", child=child.spec.name)
                    os.killpg(child.process.pid, signal.SIGKILL)
                    child.process.wait()
                codes[child.spec.name] = child.process.returncode
            return codes

    @staticmethod
    def _alive(child: Child) -> bool:
        return child.process is not None and child.process.poll() is None


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
