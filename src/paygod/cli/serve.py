"""`paygod serve`: uvicorn in front of the app factory."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path
from typing import Any

import uvicorn

from paygod.cli.dev_key import announce_dev_key
from paygod.kernel.errors import InvalidInput
from paygod.kernel.logging import configure_logging, get_logger
from paygod.kernel.settings import load_settings


def tls_options(cert: Path | None, key: Path | None, client_ca: Path | None) -> dict[str, Any]:
    """uvicorn's TLS arguments; with a client CA, certificates are verified (mutual TLS) and
    their subject names the principal (requests without one may still use API keys)."""
    if cert is None and key is None and client_ca is None:
        return {}
    if cert is None or key is None:
        raise InvalidInput("--tls-cert and --tls-key go together")
    options: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    if client_ca is not None:
        from paygod.api.security import mtls_protocol

        options |= {
            "ssl_ca_certs": str(client_ca),
            "ssl_cert_reqs": ssl.CERT_OPTIONAL,
            "http": mtls_protocol(),
        }
    return options


def proxy_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise (and reads
    FORWARDED_ALLOW_IPS from the environment): any local client, or a same-host proxy passing
    the header through, would choose its own address. Only PAYGOD_TRUSTED_PROXIES count."""
    trusted = [p.strip() for p in trusted_proxies.split(",") if p.strip()]
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def warn_loose_permissions(settings: Any) -> None:
    """Loud, on stderr and in the log, at every start until fixed (also /readyz: warn)."""
    from paygod.kernel.filemodes import loose_paths

    loose = loose_paths(settings.home, None if settings.distributed else settings.sqlite_path)
    if loose:
        sys.stderr.write(
            "paygod: WARNING: data readable by other local users: "
            + ", ".join(loose)
            + "\npaygod: WARNING: run chmod 700 on the folders and chmod 600 on the files\n"
        )
        sys.stderr.flush()
        get_logger("paygod.serve").error("loose_permissions", paths=loose)


def serve(
    *, host: str | None, port: int | None, workers: int, tls: dict[str, Any] | None = None
) -> None:
    tls = tls or {}
    settings = load_settings()  # fail fast, before binding, on a bad setting
    configure_logging(settings.log_level.value, json_lines=settings.log_json)
    from paygod.identity.settings import load_identity_settings

    tls = {**proxy_options(load_identity_settings().trusted_proxies), **tls}
    bind_host = host or settings.host
    bind_port = port or settings.port
    if workers > 1:
        from paygod.bootstrap import build_kernel as build_once

        if settings.redis_url is None:
            # Token buckets live in each process without Redis: spread over N processes,
            # one principal may reach N times its limit. Said once, at start.
            get_logger("paygod.serve").warning(
                "rate_limits_per_process",
                workers=workers,
                detail="without PAYGOD_REDIS_URL each API process keeps its own rate-limit "
                "buckets; set it to share them",
            )

        # Migrate and mint the first-start dev key once, before workers race to do it.
        parent_kernel = build_once(settings)
        announce_dev_key(parent_kernel)
        warn_loose_permissions(settings)
        parent_kernel.close()
        # Each worker process builds its own kernel from the environment.
        uvicorn.run(
            "paygod.api.app:app_from_env",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=workers,
            log_level=settings.log_level.value,
            access_log=False,
            **tls,
        )
        return
    from paygod.api.app import create_app, prepare_server_process
    from paygod.bootstrap import build_kernel

    kernel = build_kernel(settings)
    announce_dev_key(kernel)
    warn_loose_permissions(settings)
    if settings.runs_embedded_worker:
        kernel.start_background()  # standalone: the outbox worker runs in this process
    app = create_app(kernel)
    prepare_server_process()
    try:
        uvicorn.run(
            app,
            host=bind_host,
            port=bind_port,
            log_level=settings.log_level.value,
            access_log=False,
            **tls,
        )
    finally:
        kernel.close()
