"""The saga's providers from `PAYGOD_HOME/credit-providers.yaml`, when it exists:

    bureau:  {type: http, url: "https://bureau.example/v1/report", timeout: 2, attempts: 3}
    kyc:     {type: simulated, latency: 0.02, failure_rate: 0.05}
    account: {type: simulated}

Each of `bureau`, `kyc`, `account` is optional (simulated when absent). `http` providers
share the kernel's breaker board (one breaker per provider name)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from paygod.credit.bureau import simulated_account, simulated_bureau_provider, simulated_kyc
from paygod.credit.providers import HttpProvider, Provider, SimulatedProvider
from paygod.executor.breaker import BreakerBoard
from paygod.kernel.errors import FieldError, InvalidSettings

PROVIDERS_FILE = "credit-providers.yaml"
SIMULATED: Mapping[str, Callable[..., SimulatedProvider]] = {
    "bureau": simulated_bureau_provider,
    "kyc": simulated_kyc,
    "account": simulated_account,
}


def _bad(path: Path, pointer: str, message: str) -> InvalidSettings:
    return InvalidSettings(f"{path}: {message}", errors=[FieldError(pointer, message)])


def _one(path: Path, role: str, spec: Any, breakers: BreakerBoard) -> Provider:
    if not isinstance(spec, Mapping):
        raise _bad(path, f"/{role}", "expected a mapping")
    kind = spec.get("type", "simulated")
    try:
        if kind == "simulated":
            return SIMULATED[role](
                latency=float(spec.get("latency", 0)),
                failure_rate=float(spec.get("failure_rate", 0)),
                unavailable=frozenset(spec.get("unavailable", ())),
            )
        if kind == "http":
            url = spec.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise _bad(path, f"/{role}/url", "an http(s) URL")
            return HttpProvider(
                str(spec.get("name", role)),
                url,
                breakers,
                timeout=float(spec.get("timeout", 2.0)),
                attempts=int(spec.get("attempts", 3)),
            )
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"/{role}", str(exc)) from None
    raise _bad(path, f"/{role}/type", "simulated or http")


def load_providers(home: Path, breakers: BreakerBoard) -> dict[str, Provider]:
    """The configured roles only (the caller keeps its defaults for the others)."""
    path = home / PROVIDERS_FILE
    data: Any = {}
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise _bad(path, "", f"not YAML: {exc}") from None
        if not isinstance(data, Mapping):
            raise _bad(path, "", "expected a mapping of bureau, kyc, account")
        for key in data:
            if key not in SIMULATED:
                raise _bad(path, f"/{key}", "unknown provider role (bureau, kyc, account)")
    return {role: _one(path, role, spec, breakers) for role, spec in data.items()}
