"""Readiness checks: each names a dependency and reports pass/warn/fail with its duration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: Status
    duration_ms: float
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """`probe` raises when the dependency is down; `required=False` downgrades failure to warn."""

    name: str
    probe: Callable[[], str | None]
    required: bool = True

    def run(self) -> CheckResult:
        started = time.perf_counter()
        try:
            detail = self.probe() or "ok"
            status: Status = "pass"
        except Exception as exc:  # a probe may fail in any way; the report must not
            detail = f"{type(exc).__name__}: {exc}"
            status = "fail" if self.required else "warn"
        return CheckResult(self.name, status, (time.perf_counter() - started) * 1000, detail)


def overall(results: list[CheckResult]) -> Status:
    if any(r.status == "fail" for r in results):
        return "fail"
    if any(r.status == "warn" for r in results):
        return "warn"
    return "pass"
