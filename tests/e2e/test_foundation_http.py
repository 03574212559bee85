from __future__ import annotations

from tests.e2e.conftest import LiveServer


def test_health_ready_metrics(live_server: LiveServer) -> None:
    with live_server.client() as http:
        assert http.get("/healthz").json()["status"] == "pass"
        ready = http.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        # The live servers run in dev mode (for the dev key), which readiness reports as a
        # warning; everything else passes.
        statuses = {c["name"]: c["status"] for c in body["checks"]}
        assert statuses.pop("dev_mode") == "warn" and body["status"] == "warn"
        assert set(statuses.values()) == {"pass"}, body
        assert body["checks"][0]["name"] == "store"
        assert body["checks"][0]["duration_ms"] >= 0
        metrics = http.get("/metrics").text
        assert 'paygod_http_requests_total{method="GET",route="/readyz",status="200"}' in metrics
        assert "paygod_http_request_duration_seconds_bucket" in metrics


def test_request_id_in_and_out(live_server: LiveServer) -> None:
    with live_server.client() as http:
        echoed = http.get("/healthz", headers={"X-Request-Id": "abc-123"})
        assert echoed.headers["x-request-id"] == "abc-123"
        generated = http.get("/healthz", headers={"X-Request-Id": "bad id\twith tab"})
        assert generated.headers["x-request-id"] != "bad id\twith tab"
        assert len(generated.headers["x-request-id"]) == 36


def test_unknown_route_is_problem_json(live_server: LiveServer) -> None:
    with live_server.client() as http:
        response = http.get("/v1/nope")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/not-found")


def test_oversized_body_is_413(live_server: LiveServer) -> None:
    with live_server.client() as http:
        response = http.post("/v1/anything", content=b"x" * 2_000_000)
        assert response.status_code == 413
        assert response.json()["status"] == 413


def test_openapi_and_docs(live_server: LiveServer) -> None:
    with live_server.client() as http:
        spec = http.get("/openapi.json").json()
        assert spec["info"]["title"] == "Paygod"
        assert http.get("/docs").status_code == 200
