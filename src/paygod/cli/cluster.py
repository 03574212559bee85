"""`paygod cluster`: a supervised local multi-process deployment."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from paygod.cli.output import console, styled
from paygod.kernel.errors import InvalidInput, Unavailable


def cluster(
    api: Annotated[int, typer.Option(min=1, max=32, help="API processes.")] = 2,
    workers: Annotated[int, typer.Option(min=0, max=32, help="Executor worker processes.")] = 2,
    relay: Annotated[
        bool, typer.Option("--relay/--no-relay", help="Run the NATS JetStream relay.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Bind address (default PAYGOD_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default PAYGOD_PORT).")
    ] = None,
    ready_timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for the API to be ready.")
    ] = 90.0,
) -> None:
    """Start API processes, executor workers and the relay; restart what dies; Ctrl-C stops all."""
    from paygod.bootstrap import build_kernel
    from paygod.cli.dev_key import announce_dev_key
    from paygod.cluster import Supervisor, cluster_specs
    from paygod.kernel.logging import configure_logging
    from paygod.kernel.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level.value, json_lines=settings.log_json)
    if relay and not settings.nats_url:
        raise InvalidInput("--relay needs a NATS server: set PAYGOD_NATS_URL=nats://HOST:PORT")
    if not settings.distributed:
        console.print(
            styled(
                ("note:", "yellow"),
                " SQLite is one writer at a time; set PAYGOD_DATABASE_URL="
                "postgresql://... for distributed mode",
            )
        )
    # Migrate and mint the first-start dev key once, before the children race to do it.
    kernel = build_kernel(settings)
    announce_dev_key(kernel)
    kernel.close()

    bind_host = host or settings.host
    bind_port = port or settings.port
    supervisor = Supervisor(
        cluster_specs(host=bind_host, port=bind_port, api=api, workers=workers, relay=relay),
        ready_url=f"http://{bind_host}:{bind_port}/readyz",
    )

    def stop(signum: int, frame: object) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    supervisor.start()
    try:
        try:
            supervisor.wait_ready(ready_timeout)
        except (RuntimeError, TimeoutError) as exc:
            raise Unavailable(f"cluster did not start: {exc}") from None
        for name, child in supervisor.children.items():
            console.print(f"  {name:<10} pid {child.pid}")
        console.print(
            f"cluster ready: http://{bind_host}:{bind_port} (api {api}, workers {workers}"
            + (", relay" if relay else "")
            + ") — Ctrl-C to stop",
            highlight=False,
        )
        supervisor.supervise()
        if supervisor.failed:
            raise Unavailable(f"cluster stopped: {supervisor.failed}")
    finally:
        codes = supervisor.stop()
        console.print(
            "cluster stopped: " + ", ".join(f"{n} exit {c}" for n, c in codes.items()),
            highlight=False,
        )
