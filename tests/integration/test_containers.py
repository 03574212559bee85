"""The container files: checked statically always, built and run where an engine is.

The static checks hold the files to the settings the kernel validates: every PAYGOD_*
variable the compose file sets is a field of `Settings` and its value passes that
field's validation, the distributed services (PostgreSQL, Redis, NATS, API, worker,
relay) are all there, and the image does not run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from paygod.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def instructions() -> list[tuple[str, str]]:
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_slim_python_311_non_root_with_a_healthcheck() -> None:
    steps = instructions()
    bases = [rest for word, rest in steps if word == "FROM"]
    assert bases and all(b.split()[0] == "python:3.11-slim" for b in bases)
    users = [rest for word, rest in steps if word == "USER"]
    assert users, "the image must name a USER"
    assert users[-1] not in {"root", "0", "0:0"}
    health = [rest for word, rest in steps if word == "HEALTHCHECK"]
    assert health and "/healthz" in health[-1]
    env = " ".join(rest for word, rest in steps if word == "ENV")
    assert "PAYGOD_HOME=/data" in env and "PAYGOD_DATABASE_URL" not in env  # SQLite default
    assert steps[-1] == ("CMD", '["serve"]')


def test_compose_runs_distributed_mode_with_settings_the_kernel_accepts() -> None:
    data = compose()
    services = data["services"]
    assert {"postgres", "redis", "nats", "api", "worker", "relay"} <= set(services)
    fields = set(Settings.model_fields)
    commands = {}
    for name in ("api", "worker", "relay"):
        service = services[name]
        env = service["environment"]
        unknown = [k for k in env if not k.startswith("PAYGOD_") or k[7:].lower() not in fields]
        assert not unknown, f"{name}: not kernel settings: {unknown}"
        values = {k[7:].lower(): v for k, v in env.items() if not str(v).startswith("${")}
        settings = Settings(**values)  # raises on any value the kernel would refuse
        assert settings.distributed and settings.redis_url and settings.nats_url
        commands[name] = service["command"][0]
        assert {"postgres", "redis", "nats"} <= set(service["depends_on"])
    assert commands == {"api": "serve", "worker": "worker", "relay": "relay"}
    # The hosts the kernel is pointed at are the compose services.
    url = services["api"]["environment"]["PAYGOD_DATABASE_URL"]
    assert "@postgres:" in url
    assert services["postgres"]["environment"]["POSTGRES_DB"] == url.rsplit("/", 1)[1]
    assert "nats" in services["nats"]["image"] and "-js" in services["nats"]["command"]


def _engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "no docker client on PATH"
    probe = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"`docker info` failed: {probe.stderr.strip().splitlines()[-1:] or probe.returncode}"
    return None


@pytest.mark.skipif(_engine() is not None, reason=f"no container engine: {_engine()}")
def test_image_builds_runs_healthy_and_decides() -> None:
    tag = f"paygod-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1200)
    name = f"paygod-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(
            ["docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8080", tag],
            check=True,
            timeout=60,
        )
        port = (
            subprocess.run(
                ["docker", "port", name, "8080"], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .rsplit(":", 1)[1]
        )
        user = subprocess.run(
            ["docker", "exec", name, "id", "-u"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert user != "0"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the container never answered /healthz")
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=60)


@pytest.mark.skipif(_engine() is not None, reason=f"no container engine: {_engine()}")
def test_compose_brings_up_distributed_mode() -> None:
    project = f"paygod{uuid.uuid4().hex[:6]}"
    base = ["docker", "compose", "-p", project, "-f", str(COMPOSE)]
    env = {**os.environ}
    try:
        subprocess.run([*base, "up", "-d", "--build", "--wait"], check=True, timeout=1800, env=env)
        ready = httpx.get("http://127.0.0.1:8080/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
    finally:
        subprocess.run([*base, "down", "-v"], capture_output=True, timeout=300, env=env)
