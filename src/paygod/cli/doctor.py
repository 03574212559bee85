"""`paygod doctor`: is every configured dependency reachable?"""

from __future__ import annotations

import typer
from rich.table import Table

from paygod.bootstrap import database_from_settings
from paygod.cli.output import console, emit_json, styled
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
    if as_json:
        emit_json({"status": status, "checks": [r.as_dict() for r in results]})
    else:
        table = Table(title="paygod doctor")
        for column in ("check", "status", "ms", "detail"):
            table.add_column(column)
        colour = {"pass": "green", "warn": "yellow", "fail": "red"}
        for r in results:
            table.add_row(
                r.name,
                styled((r.status, colour[r.status])),
                f"{r.duration_ms:.1f}",
                r.detail,
            )
        console.print(table)
    if status == "fail":
        raise typer.Exit(3)
