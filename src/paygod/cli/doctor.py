"""`paygod doctor`: is every configured dependency reachable?"""

from __future__ import annotations

import typer

from paygod.bootstrap import database_from_settings
from paygod.cli.common import emit
from paygod.cli.output import styled, table
from paygod.kernel.health import CheckResult, ReadinessCheck, overall
from paygod.kernel.settings import load_settings


def doctor(*, as_json: bool) -> None:
    settings = load_settings()
    db = database_from_settings(settings)

    def store() -> str:
        db.ping()
        return f"{db.dialect} at {getattr(db, 'path', None) or settings.database_url}"

    def redis_check() -> str:
        if not settings.redis_url:
            return "not configured (standalone: file panic switch, in-process rate limits)"
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=1.0)
        client.ping()
        return f"{settings.redis_url} PONG"

    def nats_check() -> str:
        if not settings.nats_url:
            return "not configured (standalone: in-process events)"
        from paygod.events.jetstream import jetstream_status

        return jetstream_status(settings.nats_url, settings.nats_namespace)

    checks = [
        ReadinessCheck("store", store),
        ReadinessCheck("redis", redis_check, required=bool(settings.redis_url)),
        ReadinessCheck("nats", nats_check, required=bool(settings.nats_url)),
    ]
    results: list[CheckResult] = [c.run() for c in checks]
    db.close()
    status = overall(results)
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}
    emit(
        {"status": status, "checks": [r.as_dict() for r in results]},
        as_json=as_json,
        human=table(
            ("check", "status", "ms", "detail"),
            (
                (r.name, styled((r.status, colour[r.status])), f"{r.duration_ms:.1f}", r.detail)
                for r in results
            ),
            title="paygod doctor",
        ),
    )
    if status == "fail":
        raise typer.Exit(3)
