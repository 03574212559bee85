"""Shared fixtures: markers by folder, a fresh PAYGOD_HOME, real services when present."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from paygod.bootstrap import Kernel

ROOT = Path(__file__).resolve().parent.parent
# The shared reference material when this checkout sits beside it, else the unchanged copy
# kept in the repository (tests/fixtures/paygod-v1), so a fresh clone never skips it.
_SHARED_REFERENCE = ROOT.parent / "shared" / "reference" / "paygod-v1"
REFERENCE = (
    _SHARED_REFERENCE if _SHARED_REFERENCE.is_dir() else ROOT / "tests" / "fixtures" / "paygod-v1"
)
POSTGRES_URL = os.environ.get(
    "PAYGOD_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PAYGOD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("PAYGOD_TEST_NATS_URL", "nats://127.0.0.1:4222")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if folder in {"unit", "contract", "integration", "e2e"}:
            item.add_marker(getattr(pytest.mark, folder))


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def paygod_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "paygod-data"
    monkeypatch.setenv("PAYGOD_HOME", str(home))
    for name in ("PAYGOD_DATABASE_URL", "PAYGOD_REDIS_URL", "PAYGOD_NATS_URL", "PAYGOD_CLOCK"):
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture
def standalone_kernel(paygod_home: Path) -> Iterator[Kernel]:
    """A kernel on SQLite under this test's own PAYGOD_HOME (no Redis, no NATS), closed after."""
    from paygod.bootstrap import build_kernel

    kernel = build_kernel()
    try:
        yield kernel
    finally:
        kernel.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not service_reachable("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not service_reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture(scope="session")
def nats_url() -> str:
    if not service_reachable("127.0.0.1", 4222):
        pytest.skip("NATS is not running on 127.0.0.1:4222")
    return NATS_URL


@pytest.fixture
def nats_namespace(nats_url: str) -> Iterator[str]:
    """A subject namespace of this test's own on the shared NATS server (its streams are
    deleted afterwards), so tests running side by side never see each other's events."""
    import asyncio
    from uuid import uuid4

    import nats

    from paygod.events.jetstream import family_streams

    namespace = f"t{uuid4().hex[:12]}"
    yield namespace

    async def cleanup() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        for stream in await family_streams(js, namespace):
            await js.delete_stream(stream)
        await nc.close()

    asyncio.run(cleanup())


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"shared reference material not found at {REFERENCE}")
    return REFERENCE
