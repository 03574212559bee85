"""Operator gauges read at scrape time: outbox by status, relay lag, ledger size, panic switch,
projection lag.

Read when Prometheus asks, not kept up to date on every write, so the hot path pays
nothing. A store that does not answer leaves its gauges out of that scrape (and the
`paygod_scrape_errors` gauge says which) rather than failing the whole scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from paygod.kernel.logging import get_logger

log = get_logger("paygod.metrics")


class KernelCollector(Collector):
    def __init__(self, kernel_of: Callable[[], Any]) -> None:
        self.kernel_of = kernel_of

    def collect(self) -> Iterator[Metric]:
        kernel = self.kernel_of()
        if kernel is None:
            return
        errors = GaugeMetricFamily(
            "paygod_scrape_errors", "1 when a gauge could not be read this scrape", labels=["gauge"]
        )
        for name, read in (
            ("outbox", self._outbox),
            ("relay", self._relay),
            ("ledger", self._ledger),
            ("panic", self._panic),
            ("webhooks", self._webhooks),
            ("projections", self._projections),
        ):
            try:
                yield from read(kernel)
                errors.add_metric([name], 0)
            except Exception as exc:  # a store down for a moment must not fail the scrape
                log.warning(
                    "metrics_gauge_failed", gauge=name, error=f"{type(exc).__name__}: {exc}"
                )
                errors.add_metric([name], 1)
        yield errors

    @staticmethod
    def _outbox(kernel: Any) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "paygod_outbox_messages", "Outbox messages by status", labels=["status"]
        )
        for status, count in sorted(kernel.executor.store.counts().items()):
            family.add_metric([status], count)
        yield family

    @staticmethod
    def _relay(kernel: Any) -> Iterator[GaugeMetricFamily]:
        from paygod.events.model import RelayCursor
        from paygod.events.wiring import cursor_store_for

        store = cursor_store_for(kernel.db, kernel.ledger.outbox)
        cursor = store.get("default") or RelayCursor(name="default")
        yield GaugeMetricFamily(
            "paygod_relay_pending_events",
            "Outbox events not yet published to NATS JetStream",
            value=store.lag(cursor.position),
        )
        yield GaugeMetricFamily(
            "paygod_relay_published_events",
            "Events the relay has published (acknowledged by JetStream)",
            value=cursor.published,
        )

    @staticmethod
    def _ledger(kernel: Any) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "paygod_ledger_entries", "Entries in the ledger", value=kernel.ledger.size
        )

    @staticmethod
    def _panic(kernel: Any) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "paygod_panic_switch_on",
            "1 while the platform-wide panic switch freezes every side effect",
            value=1 if kernel.panic.status().on else 0,
        )
        # A count, not a label per tenant: tenant ids stay out of the shared scrape.
        yield GaugeMetricFamily(
            "paygod_panic_frozen_tenants",
            "Tenants whose own panic switch freezes their side effects",
            value=len(kernel.panic.frozen_tenants()),
        )

    @staticmethod
    def _projections(kernel: Any) -> Iterator[GaugeMetricFamily]:
        projections = getattr(kernel, "projections", None)
        if projections is None:
            return
        entries = GaugeMetricFamily(
            "paygod_projection_lag_entries",
            "Ledger entries a projection's tables do not reflect yet (0 while the write path "
            "keeps them in step; a rebuild's progress otherwise)",
            labels=["projection"],
        )
        seconds = GaugeMetricFamily(
            "paygod_projection_lag_seconds",
            "Age of the oldest ledger entry a projection's tables do not reflect yet",
            labels=["projection"],
        )
        position = GaugeMetricFamily(
            "paygod_projection_position",
            "Entries [0, position) of the ledger a projection's tables reflect",
            labels=["projection"],
        )
        for status in projections.status():
            entries.add_metric([status.name], status.lag_entries)
            seconds.add_metric([status.name], status.lag_seconds)
            position.add_metric([status.name], status.position)
        yield from (entries, seconds, position)

    @staticmethod
    def _webhooks(kernel: Any) -> Iterator[CounterMetricFamily]:
        payments = getattr(kernel, "payments", None)
        refusals = getattr(payments, "refusals", None)
        if refusals is None:
            return
        family = CounterMetricFamily(
            "paygod_webhook_refused",
            "Settlement webhook deliveries refused before anything was recorded, by rail "
            "(a configured one, or unknown) and reason",
            labels=["rail", "reason"],
        )
        for (rail, reason), count in sorted(refusals.counts().items()):
            family.add_metric([rail, reason], count)
        yield family
