"""In-process HTTP clients for API tests. Always build clients here: when identity wires
authentication, this is the one place that gives test clients their credentials."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paygod.api.app import create_app
from paygod.kernel.bootstrap import Kernel


def api_client(kernel: Kernel, headers: dict[str, str] | None = None) -> TestClient:
    """A TestClient over the full app (middleware, problem+json) around `kernel`."""
    client = TestClient(create_app(kernel), raise_server_exceptions=False)
    client.headers.update(headers or {})
    return client
