"""Action handlers registered by the `paygod.actions` entry-point group, found the way
importlib.metadata finds any installed distribution's entry points."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from paygod.actions.registry import ActionRegistry

PLUGIN = """
class KycStatus:
    type = "kyc_status"

    def __init__(self, kernel):
        self.kernel = kernel
        self.performed = []

    def check(self, tenant_id, spec, pointer, amount_minor):
        return []

    def perform(self, run):
        self.performed.append(run.action_id)
        return {"updated": True}


class Misnamed(KycStatus):
    type = "something_else"
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "acme_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "acme_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[paygod.actions]\n"
        "kyc_status = acme_plugin:KycStatus\n"
        "misnamed = acme_plugin:Misnamed\n"
        "broken = acme_plugin:DoesNotExist\n"
        "webhook = acme_plugin:KycStatus\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("acme_plugin", None)


def test_entry_points_register_handlers_and_bad_ones_are_refused(installed: Path) -> None:
    class Builtin:
        type = "webhook"

        def check(self, *args: Any) -> list[Any]:
            return []

        def perform(self, run: Any) -> dict[str, Any]:
            return {}

    registry = ActionRegistry([Builtin()])  # type: ignore[list-item]
    kernel = object()
    registry.load_entry_points(kernel)
    handler = registry.get("kyc_status")
    assert handler is not None and handler.kernel is kernel  # type: ignore[attr-defined]
    assert registry.types() == ["kyc_status", "webhook"]
    assert "not the entry point's name" in registry.refused["misnamed"]
    assert "DoesNotExist" in registry.refused["broken"] or "broken" in registry.refused
    assert registry.refused["webhook"] == "a built-in action type has this name"
