"""Trace context through the loop: an in-memory span exporter sees one trace from the
HTTP request to the executor's webhook call, continuing a traceparent sent in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from paygod.bootstrap import build_kernel
from paygod.kernel import tracing
from paygod.kernel.settings import load_settings
from tests.support.http import api_client
from tests.support.receiver import receiver

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    tracing.enable(SimpleSpanProcessor(spans))
    try:
        yield spans
    finally:
        tracing.disable()


def test_off_by_default_costs_nothing() -> None:
    assert not tracing.enabled()
    with tracing.span("x") as span:
        assert span is tracing.NO_SPAN
    assert tracing.current_traceparent() is None


def test_one_trace_from_request_to_webhook_call(
    paygod_home: Path, exporter: InMemorySpanExporter
) -> None:
    kernel = build_kernel(load_settings())
    try:
        client = api_client(kernel)
        with receiver() as rx:
            r = client.put(
                "/v1/actions/destinations/partner", json={"url": rx.url, "allow_private": True}
            )
            assert r.status_code == 200
            exporter.clear()
            r = client.post(
                "/v1/decisions",
                json={
                    "subject": "urn:customer:1",
                    "input": {
                        "payment": {
                            "amount_minor": 100,
                            "currency": "EUR",
                            "rail": "card",
                            "counterparty": {"ref": "urn:paygod:counterparty:a", "verified": True},
                        }
                    },
                    "packs": ["agent-payment-limits"],
                    "action": {"type": "webhook", "destination": "partner"},
                },
                headers={"Idempotency-Key": "trace-1", "traceparent": TRACEPARENT},
            )
            assert r.status_code == 201, r.text
            kernel.executor.drain()
            assert len(rx.deliveries) == 1
            # The receiver is told the trace too.
            assert TRACE_ID in rx.deliveries[0].headers["traceparent"]
        spans = exporter.get_finished_spans()
        names = {s.name for s in spans}
        assert {
            "POST /v1/decisions",
            "paygod.decision",
            "paygod.seal",
            "paygod.executor action.perform",
            "paygod.action.perform",
        } <= names, names
        chain = [s for s in spans if s.name.startswith(("POST /v1/decisions", "paygod."))]
        assert {format(s.context.trace_id, "032x") for s in chain} == {TRACE_ID}
        by_name = {s.name: s for s in spans}
        server = by_name["POST /v1/decisions"]
        assert format(server.parent.span_id, "016x") == "00f067aa0ba902b7"
        decision = by_name["paygod.decision"]
        assert by_name["paygod.seal"].parent.span_id == decision.context.span_id
        executor = by_name["paygod.executor action.perform"]
        assert executor.parent.span_id == decision.context.span_id
        assert by_name["paygod.action.perform"].parent.span_id == executor.context.span_id
    finally:
        kernel.close()
